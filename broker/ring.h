// RoomRing: one room's history and its fan-out queue. A message is encoded
// once (the `msg` event JSON, opaque bytes here), appended once, and every
// member's session writes it straight from the ring, keeping only a cursor
// (the next seq it wants).
//
// Capacity: holds at most `slots` messages AND at most `bytes` bytes of
// arena, whichever fills first; the oldest messages are dropped first. An
// entry costs `headroom + len` bytes of arena (plus, at most once per lap,
// the tail of the arena left unused when the next entry does not fit there).
// Both sizes are fixed in the constructor, which makes the only two
// allocations (the byte arena and the slot table); nothing after that
// allocates. reserved_bytes() says how much that is.
//
// Headroom: every entry's data is stored contiguously with `headroom`
// writable bytes directly in front of it (the platform's LWS_PRE), so the
// pointer from get() can go straight to lws_write(), which may scribble in
// those bytes. An entry's headroom never overlaps another entry's data.
//
// Sequence numbers start at 1, grow with every append and are never reused
// (not even after reset_to()). append() takes the next one (head() + 1);
// append_at() takes any larger one, so that two rings can share one seq
// space (RoomHistory: a room's people and its devices), each holding a
// sparse, ascending subset. head() is the largest seq stored (0 before the
// first append), oldest() the smallest seq still held (head() + 1 when the
// ring is empty), and complete_from() the smallest seq from which every
// entry ever appended is still held. Finding a seq is O(1) while the held
// seqs are consecutive (its slot follows from its distance to the oldest),
// else a binary search.
//
// Arena states (H = headroom, d = data of entry n, . = free, x = tail left
// unused by a wrap until the next lap):
//
//   empty     |......................................|  next entry at 0
//
//   filling   |Hd1|Hddd2|Hd3|........................|
//              ^oldest   ^newest
//
//   wrapped   |Hddd6|Hd7|..........Hddd4|Hd5|xxxxxxx|
//                    ^newest       ^oldest
//                                               6 did not fit after 5: it went to 0
//
// An append: when every slot is taken the oldest entry goes; the new entry
// goes right after the newest one, or at 0 when it would run past the end of
// the arena; then the oldest entries go until none overlaps it.
//
// Not thread-safe; the broker's loop owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace roost {

// What the broker remembers about a stored message besides its bytes.
struct EntryMeta {
    std::uint64_t ts = 0;      // server time (ms since the Unix epoch)
    std::uint64_t cid_key = 0; // hash_cid(sender, cid); 0 when the message had no cid
    bool remote = false;       // came over the MQTT bridge (never published back)
};

// A 64-bit key for a (sender, cid) pair, for RoomRing::find_cid(): FNV-1a 64
// over the sender's length, the sender and the cid, then a finalizing mixer.
// `sender_lower` is the folded nick (or device name). Never returns 0.
std::uint64_t hash_cid(std::string_view sender_lower, std::string_view cid);

class RoomRing {
public:
    // A ring of `slots` messages and `bytes` bytes of arena, `headroom`
    // writable bytes before each entry. slots 0 is taken as 1; a ring of 0
    // bytes refuses every append.
    RoomRing(std::uint32_t slots, std::uint32_t bytes, std::uint32_t headroom);
    RoomRing(const RoomRing&) = delete;
    RoomRing& operator=(const RoomRing&) = delete;

    // Bytes a ring of this geometry reserves (arena, slot table, the object).
    static std::size_t reserved_bytes(std::uint32_t slots, std::uint32_t bytes, std::uint32_t headroom);

    // Stores a copy of `len` bytes at `data` as the newest entry, dropping
    // the oldest entries it needs room for. Returns the new seq, or 0 (and
    // changes nothing) when len is 0 or headroom + len is more than the arena.
    [[nodiscard]] std::uint64_t append(const char* data, std::uint32_t len, const EntryMeta& meta) {
        return append_at(head_ + 1, data, len, meta);
    }
    // As append(), as entry `seq`, which must be larger than head() (else
    // 0, nothing changed).
    [[nodiscard]] std::uint64_t append_at(std::uint64_t seq, const char* data, std::uint32_t len,
                                          const EntryMeta& meta);

    // The bytes of entry `seq`: false when it is not held. `data` stays valid
    // until the entry is dropped (by a later append or reset_to). The
    // `headroom` bytes before `data` are the caller's scratch: writing them
    // never harms any entry. The data bytes themselves must not be changed.
    bool get(std::uint64_t seq, const char*& data, std::uint32_t& len) const;
    bool get(std::uint64_t seq, char*& data, std::uint32_t& len);

    // The meta of entry `seq`, or nullptr when it is not held. Valid as get().
    const EntryMeta* meta(std::uint64_t seq) const;

    // The seq of the newest held entry whose cid_key is `cid_key`, or 0 (also
    // for cid_key 0). O(count()).
    std::uint64_t find_cid(std::uint64_t cid_key) const;

    std::uint64_t head() const { return head_; }
    std::uint64_t oldest() const { return count_ == 0 ? head_ + 1 : slot_at(first_).seq; }
    // Every entry appended with a seq >= this is still held.
    std::uint64_t complete_from() const { return dropped_ + 1; }
    std::uint32_t count() const { return count_; }
    // The smallest held seq >= `seq`, or 0 when there is none.
    std::uint64_t next_held(std::uint64_t seq) const;
    // How many held entries have a seq >= `seq`.
    std::uint32_t count_from(std::uint64_t seq) const;
    // The seq of the n-th newest held entry (1: the newest); the oldest's
    // when fewer are held; head() + 1 when none or n is 0.
    std::uint64_t nth_newest(std::uint32_t n) const;
    // Arena bytes the held entries take (headroom included, wasted tail not).
    std::uint32_t bytes_used() const { return used_; }
    std::uint32_t slots() const { return nslots_; }
    std::uint32_t capacity_bytes() const { return nbytes_; }
    std::uint32_t headroom() const { return headroom_; }

    // Drops every entry; the next append gets seq head + 1. For a recycled
    // room (head 0) and for restoring a room's history from disk.
    void reset_to(std::uint64_t head);

private:
    struct Slot {
        std::uint64_t seq;  // the seq held in this slot
        std::uint32_t off;  // arena offset of the entry's headroom
        std::uint32_t len;  // data bytes (the data starts at off + headroom)
        EntryMeta meta;
    };

    // Entries are kept in append order: the i-th held (0 = oldest) is in
    // slot (first_ + i) % nslots_.
    const Slot& slot_at(std::uint32_t index) const { return slots_[index]; }
    std::uint32_t nth(std::uint32_t i) const { return (first_ + i) % nslots_; }
    // The position (0 = oldest) of the first held entry with a seq >= seq;
    // count_ when there is none.
    std::uint32_t lower_bound(std::uint64_t seq) const;
    const Slot* held(std::uint64_t seq) const;
    std::uint32_t end_of(const Slot& s) const { return s.off + headroom_ + s.len; }
    void drop_oldest();
    std::uint32_t place(std::uint32_t need);

    std::uint32_t nslots_;
    std::uint32_t nbytes_;
    std::uint32_t headroom_;
    std::uint32_t count_ = 0;
    std::uint32_t first_ = 0;   // slot of the oldest held entry
    std::uint32_t used_ = 0;
    std::uint64_t head_ = 0;
    std::uint64_t dropped_ = 0; // the largest seq dropped (or skipped by reset_to)
    std::unique_ptr<char[]> arena_;
    std::unique_ptr<Slot[]> slots_;
};

} // namespace roost
