// Token buckets, the address table and the error counter. The contracts
// are in rate_limit.h.
#include "broker/rate_limit.h"

#include <cstring>

namespace roost {

namespace {

constexpr std::uint32_t kFree = 0xffffffffu;
constexpr std::uint64_t kMinuteMs = 60000;

// A hash of the 16 address bytes: the two halves folded together through
// splitmix64's finalizer, so addresses that differ in any bit spread out.
std::uint32_t hash_addr(const std::uint8_t addr[16]) {
    std::uint64_t a = 0, b = 0;
    std::memcpy(&a, addr, 8);
    std::memcpy(&b, addr + 8, 8);
    std::uint64_t z = a ^ (b * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<std::uint32_t>(z ^ (z >> 32));
}

// The smallest power of two >= 2 * n (the index is kept at most half full).
std::uint32_t index_size(std::uint32_t n) {
    std::uint32_t size = 2;
    while (size < 2 * static_cast<std::uint64_t>(n)) {
        size *= 2;
    }
    return size;
}

} // namespace

bool TokenBucket::take(std::uint64_t now_ms, std::uint32_t rate_per_s, std::uint32_t burst) {
    const std::uint64_t cap = std::uint64_t{burst} * 1000;
    if (!started) {
        started = true;
        milli = cap;
    } else if (now_ms > last_ms && rate_per_s > 0 && milli < cap) {
        // rate_per_s tokens a second is rate_per_s milli-tokens a ms. Compare
        // before multiplying so a long idle time cannot overflow.
        const std::uint64_t elapsed = now_ms - last_ms;
        const std::uint64_t missing = cap - milli;
        milli = elapsed >= (missing + rate_per_s - 1) / rate_per_s ? cap : milli + elapsed * rate_per_s;
    }
    last_ms = now_ms;
    if (milli > cap) {
        milli = cap;
    }
    if (milli < 1000) {
        return false;
    }
    milli -= 1000;
    return true;
}

std::uint64_t TokenBucket::ms_until_token(std::uint32_t rate_per_s) const {
    if (milli >= 1000) {
        return 0;
    }
    if (rate_per_s == 0) {
        return UINT64_MAX;
    }
    return (1000 - milli + rate_per_s - 1) / rate_per_s;
}

AddressLimiter::AddressLimiter(std::uint32_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity), mask_(index_size(capacity_) - 1), mru_(kFree), lru_(kFree),
      entries_(capacity_), index_(std::size_t{mask_} + 1, kFree) {}

std::size_t AddressLimiter::reserved_bytes(std::uint32_t capacity) {
    const std::uint32_t c = capacity == 0 ? 1 : capacity;
    return sizeof(AddressLimiter) + std::size_t{c} * sizeof(Entry) + std::size_t{index_size(c)} * sizeof(std::uint32_t);
}

// The index position holding `addr`, or the empty position where it would
// go (there is always one: the index is at most half full).
std::uint32_t AddressLimiter::find(const std::uint8_t addr[16], std::uint32_t home) const {
    std::uint32_t pos = home;
    while (index_[pos] != kFree && std::memcmp(entries_[index_[pos]].addr, addr, 16) != 0) {
        pos = (pos + 1) & mask_;
    }
    return pos;
}

bool AddressLimiter::tracks(const std::uint8_t addr[16]) const {
    return index_[find(addr, hash_addr(addr) & mask_)] != kFree;
}

void AddressLimiter::unlink(std::uint32_t e) {
    Entry& x = entries_[e];
    (x.prev == kFree ? mru_ : entries_[x.prev].next) = x.next;
    (x.next == kFree ? lru_ : entries_[x.next].prev) = x.prev;
}

void AddressLimiter::push_front(std::uint32_t e) {
    Entry& x = entries_[e];
    x.prev = kFree;
    x.next = mru_;
    (mru_ == kFree ? lru_ : entries_[mru_].prev) = e;
    mru_ = e;
}

// Empties index position `pos`, then moves later entries of the same probe
// run back into the hole when their home allows it, so that every entry
// stays reachable from its home without tombstones.
void AddressLimiter::erase_index(std::uint32_t pos) {
    std::uint32_t hole = pos;
    for (std::uint32_t j = (pos + 1) & mask_; index_[j] != kFree; j = (j + 1) & mask_) {
        const std::uint32_t home = entries_[index_[j]].home;
        const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            index_[hole] = index_[j];
            hole = j;
        }
    }
    index_[hole] = kFree;
}

bool AddressLimiter::take(const std::uint8_t addr[16], std::uint64_t now_ms, std::uint32_t rate, std::uint32_t burst,
                          std::uint64_t* retry_after_ms) {
    const std::uint32_t home = hash_addr(addr) & mask_;
    std::uint32_t pos = find(addr, home);
    std::uint32_t e = index_[pos];
    if (e != kFree) {
        unlink(e);
    } else {
        if (used_ < capacity_) {
            e = used_++;
        } else {
            e = lru_;
            unlink(e);
            erase_index(find(entries_[e].addr, entries_[e].home));
            pos = find(addr, home); // the erase may have shifted the run
        }
        Entry& x = entries_[e];
        std::memcpy(x.addr, addr, 16);
        x.home = home;
        x.bucket = TokenBucket{};
        index_[pos] = e;
    }
    push_front(e);
    TokenBucket& b = entries_[e].bucket;
    const bool ok = b.take(now_ms, rate, burst);
    if (!ok && retry_after_ms != nullptr) {
        *retry_after_ms = b.ms_until_token(rate);
    }
    return ok;
}

bool ErrorCounter::note_error(std::uint64_t now_ms, std::uint32_t limit_per_minute) {
    if (count == 0 || now_ms < window_start_ms || now_ms - window_start_ms >= kMinuteMs) {
        window_start_ms = now_ms;
        count = 0;
    }
    if (count < UINT32_MAX) {
        ++count;
    }
    return count > limit_per_minute;
}

} // namespace roost
