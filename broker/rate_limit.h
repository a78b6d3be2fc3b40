// Rate limits of the core: a token bucket (per session: say/dm, typing), a
// fixed table of buckets keyed by source address (HTTP API posts), and an
// error counter (repeated client errors end in close 1008).
//
// Time is whatever the caller passes (ms); nothing here reads a clock or
// allocates after construction. A clock that steps backwards refills
// nothing and is taken as the new "last seen" time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace roost {

// A token bucket in integer milli-tokens (no floating point, no drift): it
// gains exactly `rate_per_s` milli-tokens per elapsed ms, holds at most
// `burst` tokens, and starts full. rate and burst are passed on each call
// (they are runtime settings); a smaller burst than before caps the bucket.
// burst 0 refuses everything; rate 0 never refills.
struct TokenBucket {
    std::uint64_t milli = 0;   // tokens x 1000
    std::uint64_t last_ms = 0; // time of the last refill
    bool started = false;      // false: full at the first take()

    // Refills for the time since the last call, then takes one token.
    // True when a token was taken.
    bool take(std::uint64_t now_ms, std::uint32_t rate_per_s, std::uint32_t burst);

    // After take() (at the same now_ms): ms until one whole token is there,
    // 0 when one is there now, UINT64_MAX when rate is 0. For Retry-After.
    std::uint64_t ms_until_token(std::uint32_t rate_per_s) const;
};

// Token buckets keyed by source address (16 raw bytes, IPv4 mapped into
// IPv6 as ::ffff:a.b.c.d).
//
// Capacity: tracks at most `capacity` addresses (0 is taken as 1), fixed in
// the constructor (two allocations: the entries and an index twice as
// large). When the table is full, a new address replaces the least recently
// used one, whose bucket is forgotten: an attacker with more addresses than
// the table gets fresh buckets, so the table is sized for the honest
// population (CoreLimits::max_addresses). Lookups are O(1) on average:
// linear probing in a power-of-two index kept at most half full, with
// backward-shift deletion (no tombstones); LRU order is an intrusive list.
class AddressLimiter {
public:
    explicit AddressLimiter(std::uint32_t capacity);

    // Takes one token from `addr`'s bucket (new addresses start full). True
    // when allowed. When refused and retry_after_ms is given, it gets the ms
    // until a token will be there (for HTTP 429 Retry-After).
    bool take(const std::uint8_t addr[16], std::uint64_t now_ms, std::uint32_t rate, std::uint32_t burst,
              std::uint64_t* retry_after_ms = nullptr);

    std::uint32_t size() const { return used_; }
    std::uint32_t capacity() const { return capacity_; }
    // True when `addr` has a bucket in the table (for tests and metrics).
    bool tracks(const std::uint8_t addr[16]) const;

    // Bytes a table of this capacity reserves (for the memory report).
    static std::size_t reserved_bytes(std::uint32_t capacity);

private:
    struct Entry {
        std::uint8_t addr[16];
        std::uint32_t home; // hash & mask: its preferred index position
        std::uint32_t prev, next; // LRU list, most recent first
        TokenBucket bucket;
    };

    std::uint32_t find(const std::uint8_t addr[16], std::uint32_t home) const;
    void unlink(std::uint32_t e);
    void push_front(std::uint32_t e);
    void erase_index(std::uint32_t pos);

    std::uint32_t capacity_;
    std::uint32_t mask_;
    std::uint32_t used_ = 0;
    std::uint32_t mru_;
    std::uint32_t lru_;
    std::vector<Entry> entries_;
    std::vector<std::uint32_t> index_; // entry numbers, kFree when empty
};

// Counts a session's client errors in fixed one-minute windows: a window
// opens at the first error after the previous one ended and lasts 60 s.
// (So at most 2 x limit errors can pass in a minute that straddles two
// windows; that is enough to end abuse and needs no per-error memory.)
struct ErrorCounter {
    std::uint64_t window_start_ms = 0;
    std::uint32_t count = 0; // errors in the current window

    // Notes one error; true when the window now holds more than
    // `limit_per_minute` errors (the caller closes with 1008).
    bool note_error(std::uint64_t now_ms, std::uint32_t limit_per_minute);
};

} // namespace roost
