// RoomHistory: one room's history, kept in two rings that share the room's
// seq space: people's messages (chat, bot and system) in one, device
// readings in another. A sensor posting every second then fills its own
// ring and never pushes people's messages out: the last `ring_msgs` of them
// stay however many readings arrive.
//
//   seq:     1   2   3   4   5   6   7   8   9
//   people:  c1      c3              c7      c9     ring_msgs / ring_bytes
//   devices:     d2      d4  d5  d6      d8         device_ring_msgs / _bytes
//
// Seqs grow by one per message whatever its class, so a client keys every
// message by (epoch, seq) as before. Readings older than the device ring's
// oldest are no longer replayed (their values live on in the devices store);
// a replay skips their seqs. oldest() is therefore the seq from which every
// message of people is still held: the contract's recovery rule
// (`seq + 1 >= oldest`) speaks of people's history, and readings are
// replayed as far as the device ring reaches.
//
// Each lookup is O(1) or a binary search in one ring (see RoomRing).
#pragma once

#include "broker/ring.h"

#include <cstdint>

namespace roost {

enum class HistoryClass : std::uint8_t { people, devices };

class RoomHistory {
public:
    RoomHistory(RoomRing& people, RoomRing& devices) : people_(people), devices_(devices) {}

    // Stores a message of `cls` as seq head() + 1 (see RoomRing::append).
    // Returns the seq, or 0 when it could not be stored.
    [[nodiscard]] std::uint64_t append(HistoryClass cls, const char* data, std::uint32_t len, const EntryMeta& meta);

    // The bytes / meta of `seq`, from whichever ring holds it.
    bool get(std::uint64_t seq, const char*& data, std::uint32_t& len) const;
    const EntryMeta* meta(std::uint64_t seq) const;
    // The newest held message of either class with this cid key, or 0.
    std::uint64_t find_cid(std::uint64_t cid_key) const;

    std::uint64_t head() const { return head_; }
    // Every message of people with a seq >= oldest() is held.
    std::uint64_t oldest() const { return people_.complete_from(); }
    // The smallest held seq >= `seq` (either class), or head() + 1.
    std::uint64_t next(std::uint64_t seq) const;
    // Held messages with a seq >= `seq`, counting at most `cap`.
    std::uint64_t count_from(std::uint64_t seq, std::uint64_t cap) const;
    // The seq of the n-th newest held message (1: the newest); the oldest
    // held one's when fewer are held; head() + 1 when none or n is 0.
    std::uint64_t nth_newest(std::uint64_t n) const;
    // Messages held in all.
    std::uint32_t count() const { return people_.count() + devices_.count(); }
    const RoomRing& people() const { return people_; }
    const RoomRing& devices() const { return devices_; }

    // Drops everything; the next message gets seq head + 1.
    void reset_to(std::uint64_t head);
    // Start-up only (restore): message `seq` of `cls`, seqs ascending.
    [[nodiscard]] bool restore(HistoryClass cls, std::uint64_t seq, const char* data, std::uint32_t len,
                               const EntryMeta& meta);

private:
    RoomRing& ring(HistoryClass cls) const { return cls == HistoryClass::people ? people_ : devices_; }

    RoomRing& people_;
    RoomRing& devices_;
    std::uint64_t head_ = 0;
};

} // namespace roost
