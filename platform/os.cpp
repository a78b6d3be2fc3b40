#include "platform/os.h"

#include <sys/resource.h>
#include <unistd.h>

#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <cstdio>

namespace roost {

std::uint64_t SystemClock::now_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

std::int32_t SystemClock::utc_offset_min(std::uint64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) {
        return 0;
    }
    return static_cast<std::int32_t>(tm.tm_gmtoff / 60);
}

bool use_timezone(const std::string& zone) {
    if (zone.empty()) {
        return true;
    }
    if (zone.find("..") != std::string::npos || zone.front() == '/' ||
        access(("/usr/share/zoneinfo/" + zone).c_str(), R_OK) != 0) {
        return false;
    }
    setenv("TZ", zone.c_str(), 1);
    tzset();
    return true;
}

std::uint64_t OsRandom::next() {
    std::uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v)) {
        return v;
    }
    static SplitMix fallback(SystemClock().now_ms());
    return fallback.next();
}

std::uint64_t resident_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) {
        return 0;
    }
    unsigned long long size = 0, resident = 0;
    const int got = std::fscanf(f, "%llu %llu", &size, &resident);
    std::fclose(f);
    const long page = sysconf(_SC_PAGESIZE);
    return got == 2 && page > 0 ? resident * static_cast<std::uint64_t>(page) : 0;
}

std::uint64_t physical_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size) : 0;
}

std::uint64_t raise_open_files(std::uint64_t want) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    rlim_t target = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? static_cast<rlim_t>(want) : rl.rlim_max;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= target) {
        return rl.rlim_cur == RLIM_INFINITY ? want : static_cast<std::uint64_t>(rl.rlim_cur);
    }
    rl.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    return static_cast<std::uint64_t>(rl.rlim_cur);
}

} // namespace roost
