// The core's only view of time and randomness: small interfaces the
// platform implements (real clock, OS entropy) and tests fake.
#pragma once

#include <cstdint>

namespace roost {

class Clock {
public:
    virtual ~Clock() = default;
    // Milliseconds since the Unix epoch (wall clock, for `ts`).
    virtual std::uint64_t now_ms() = 0;
    // Minutes to add to UTC for the broker's local time at `ms` (its zone,
    // summer time included): what "/remind at 18:30" means.
    virtual std::int32_t utc_offset_min(std::uint64_t ms) {
        (void)ms;
        return 0;
    }
};

class Random {
public:
    virtual ~Random() = default;
    // A uniformly random 64-bit value (used for epochs).
    virtual std::uint64_t next() = 0;
};

// A clock tests move by hand.
class FakeClock final : public Clock {
public:
    explicit FakeClock(std::uint64_t start_ms = 1700000000000ULL) : now_(start_ms) {}
    std::uint64_t now_ms() override { return now_; }
    void advance(std::uint64_t ms) { now_ += ms; }
    void set(std::uint64_t ms) { now_ = ms; }
    std::int32_t utc_offset_min(std::uint64_t) override { return offset_; }
    void set_offset_min(std::int32_t m) { offset_ = m; }

private:
    std::uint64_t now_;
    std::int32_t offset_ = 0;
};

// A deterministic generator (splitmix64) for tests and as a fallback.
class SplitMix final : public Random {
public:
    explicit SplitMix(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() override {
        std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t s_;
};

} // namespace roost
