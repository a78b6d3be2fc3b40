// What roost-bench measures with: the monotonic clock, a latency histogram,
// the server's CPU time and RSS from /proc, and its own CPU time.
#pragma once

#include <cmath>
#include <cstdint>
#include <ctime>
#include <vector>

namespace roost_bench {

// Microseconds on CLOCK_MONOTONIC: send stamps and their deliveries compare
// on one machine, so the clock only has to be monotonic.
inline std::uint64_t now_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

// --- latency histogram: log-bucketed, 16 sub-buckets per power of two -----
class Histogram {
public:
    void add(std::uint64_t v) {
        ++counts_[index(v)];
        ++total_;
    }
    std::uint64_t total() const { return total_; }
    // The value below which `q` of the samples fall (upper edge of its bucket).
    std::uint64_t quantile(double q) const {
        if (total_ == 0) return 0;
        const auto want = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= want) return upper(i);
        }
        return upper(counts_.size() - 1);
    }

private:
    static constexpr int kSub = 16;
    static std::size_t index(std::uint64_t v) {
        if (v < kSub) return static_cast<std::size_t>(v);
        const int msb = 63 - __builtin_clzll(v);
        const auto sub = static_cast<std::size_t>((v >> (msb - 4)) & (kSub - 1));
        return static_cast<std::size_t>(msb - 3) * kSub + sub;
    }
    static std::uint64_t upper(std::size_t i) {
        if (i < kSub) return i;
        const std::size_t msb = i / kSub + 3, sub = i % kSub;
        return ((std::uint64_t{kSub} + sub + 1) << (msb - 4)) - 1;
    }
    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(64 * kSub, 0);
    std::uint64_t total_ = 0;
};

// --- /proc readings of the server --------------------------------------------
struct ProcSample {
    double cpu_s = 0;     // utime + stime
    std::uint64_t rss_kb = 0;
};

// The server's CPU time and RSS; zeros when `pid` <= 0 or it cannot be read.
ProcSample read_proc(int pid);

// This process's user + system CPU time in seconds.
double own_cpu_s();

} // namespace roost_bench
