// The OS behind the core's small interfaces (broker/clock.h): the wall
// clock and the kernel's random numbers.
#pragma once

#include "broker/clock.h"

#include <string>

namespace roost {

class SystemClock final : public Clock {
public:
    std::uint64_t now_ms() override;
    // localtime_r's tm_gmtoff: the zone of TZ (set from the `timezone`
    // setting at start, see use_timezone) or /etc/localtime.
    std::int32_t utc_offset_min(std::uint64_t ms) override;
};

// Makes `zone` (e.g. "Europe/Berlin") the process's local time zone; empty
// keeps the system's. False when no such zone is installed
// (/usr/share/zoneinfo/ZONE).
bool use_timezone(const std::string& zone);

// getrandom(2); falls back to a time-seeded splitmix only if the kernel
// refuses (it never blocks after boot on Linux 5.6+, and epochs need
// uniqueness, not secrecy).
class OsRandom final : public Random {
public:
    std::uint64_t next() override;
};

// This process's resident memory in bytes (/proc/self/statm), 0 if unknown.
std::uint64_t resident_bytes();

// Physical memory of the machine in bytes, 0 if unknown.
std::uint64_t physical_bytes();

// The open-file limit, raised from its soft to its hard value (at most
// `want`): returns the soft limit in force afterwards, 0 if unknown.
std::uint64_t raise_open_files(std::uint64_t want);

} // namespace roost
