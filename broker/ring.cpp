// RoomRing: placement of entries in the byte arena and eviction of the
// oldest ones. The contract and the drawing of the arena states are in
// ring.h.
#include "broker/ring.h"

#include <cstring>

namespace roost {

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv1a(std::uint64_t h, const void* p, std::size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
        h ^= b[i];
        h *= kFnvPrime;
    }
    return h;
}

// MurmurHash3's fmix64: FNV-1a's low bits are weak; this spreads every input
// bit over the whole word.
std::uint64_t fmix64(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

} // namespace

std::uint64_t hash_cid(std::string_view sender_lower, std::string_view cid) {
    // The sender's length goes first so ("ab", "c") and ("a", "bc") differ.
    const std::uint64_t n = sender_lower.size();
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) {
        len_bytes[i] = static_cast<unsigned char>(n >> (8 * i));
    }
    std::uint64_t h = fnv1a(kFnvOffset, len_bytes, sizeof len_bytes);
    h = fnv1a(h, sender_lower.data(), sender_lower.size());
    h = fnv1a(h, cid.data(), cid.size());
    h = fmix64(h);
    return h == 0 ? 1 : h;
}

RoomRing::RoomRing(std::uint32_t slots, std::uint32_t bytes, std::uint32_t headroom)
    : nslots_(slots == 0 ? 1 : slots), nbytes_(bytes), headroom_(headroom),
      // Default-initialized: the arena's pages become resident as messages
      // fill them; a slot is read only while its seq is held.
      arena_(new char[bytes == 0 ? 1 : bytes]), slots_(new Slot[nslots_]) {}

std::size_t RoomRing::reserved_bytes(std::uint32_t slots, std::uint32_t bytes, std::uint32_t headroom) {
    (void)headroom; // headroom lives inside the arena
    return sizeof(RoomRing) + std::size_t{bytes} + std::size_t{slots == 0 ? 1 : slots} * sizeof(Slot);
}

std::uint32_t RoomRing::lower_bound(std::uint64_t seq) const {
    if (count_ == 0) return 0;
    const std::uint64_t first = slot_at(first_).seq;
    if (seq <= first) return 0;
    if (seq > head_) return count_;
    // Consecutive seqs (a ring of its own seq space): direct.
    if (head_ - first + 1 == count_) return static_cast<std::uint32_t>(seq - first);
    std::uint32_t lo = 0, hi = count_;
    while (lo < hi) {
        const std::uint32_t mid = lo + (hi - lo) / 2;
        if (slot_at(nth(mid)).seq < seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

const RoomRing::Slot* RoomRing::held(std::uint64_t seq) const {
    const std::uint32_t i = lower_bound(seq);
    if (i >= count_) return nullptr;
    const Slot& s = slot_at(nth(i));
    return s.seq == seq ? &s : nullptr;
}

std::uint64_t RoomRing::next_held(std::uint64_t seq) const {
    const std::uint32_t i = lower_bound(seq);
    return i < count_ ? slot_at(nth(i)).seq : 0;
}

std::uint32_t RoomRing::count_from(std::uint64_t seq) const { return count_ - lower_bound(seq); }

std::uint64_t RoomRing::nth_newest(std::uint32_t n) const {
    if (n == 0 || count_ == 0) return head_ + 1;
    return slot_at(nth(n >= count_ ? 0 : count_ - n)).seq;
}

void RoomRing::drop_oldest() {
    const Slot& s = slot_at(first_);
    used_ -= headroom_ + s.len;
    dropped_ = s.seq;
    first_ = (first_ + 1) % nslots_;
    --count_;
}

// Where an entry of `need` arena bytes goes, dropping the oldest entries in
// its way. The ring is "wrapped" when the newest entry starts before the
// oldest: then the only free run is between them. Otherwise free space is
// after the newest entry and before the oldest.
std::uint32_t RoomRing::place(std::uint32_t need) {
    while (count_ > 0) {
        const Slot& first = slot_at(first_);
        const Slot& last = slot_at(nth(count_ - 1));
        const std::uint32_t end = end_of(last);
        if (last.off >= first.off) {
            if (nbytes_ - end >= need) {
                return end;
            }
            if (first.off >= need) {
                return 0; // wrap: the tail after `end` is wasted this lap
            }
        } else if (first.off - end >= need) {
            return end;
        }
        drop_oldest();
    }
    return 0;
}

std::uint64_t RoomRing::append_at(std::uint64_t seq, const char* data, std::uint32_t len, const EntryMeta& meta) {
    if (len == 0 || len > nbytes_ || headroom_ > nbytes_ - len || seq <= head_) {
        return 0;
    }
    const std::uint32_t need = headroom_ + len;
    if (count_ == nslots_) {
        drop_oldest();
    }
    const std::uint32_t off = place(need);
    if (count_ == 0) first_ = 0;
    Slot& s = slots_[nth(count_)];
    s.seq = seq;
    s.off = off;
    s.len = len;
    s.meta = meta;
    std::memcpy(arena_.get() + off + headroom_, data, len);
    head_ = seq;
    ++count_;
    used_ += need;
    return seq;
}

bool RoomRing::get(std::uint64_t seq, const char*& data, std::uint32_t& len) const {
    const Slot* s = held(seq);
    if (s == nullptr) {
        return false;
    }
    data = arena_.get() + s->off + headroom_;
    len = s->len;
    return true;
}

bool RoomRing::get(std::uint64_t seq, char*& data, std::uint32_t& len) {
    const char* p = nullptr;
    if (!static_cast<const RoomRing&>(*this).get(seq, p, len)) {
        return false;
    }
    data = const_cast<char*>(p); // the arena is this ring's own, writable memory
    return true;
}

const EntryMeta* RoomRing::meta(std::uint64_t seq) const {
    const Slot* s = held(seq);
    return s == nullptr ? nullptr : &s->meta;
}

std::uint64_t RoomRing::find_cid(std::uint64_t cid_key) const {
    if (cid_key == 0) {
        return 0;
    }
    for (std::uint32_t i = count_; i > 0; --i) {
        const Slot& s = slot_at(nth(i - 1));
        if (s.meta.cid_key == cid_key) {
            return s.seq;
        }
    }
    return 0;
}

void RoomRing::reset_to(std::uint64_t head) {
    head_ = head;
    dropped_ = head;
    count_ = 0;
    first_ = 0;
    used_ = 0;
}

} // namespace roost
