// The OS behind the core's small interfaces (broker/clock.h): the wall
// clock and the kernel's random numbers.
#pragma once

#include "broker/clock.h"

namespace roost {

class SystemClock final : public Clock {
public:
    std::uint64_t now_ms() override;
};

// getrandom(2); falls back to a time-seeded splitmix only if the kernel
// refuses (it never blocks after boot on Linux 5.6+, and epochs need
// uniqueness, not secrecy).
class OsRandom final : public Random {
public:
    std::uint64_t next() override;
};

// This process's resident memory in bytes (/proc/self/statm), 0 if unknown.
std::uint64_t resident_bytes();

} // namespace roost
