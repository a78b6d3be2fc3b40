// TimerHeap: the core's pending timers (bot moves, reminders, idle checks),
// a binary min-heap ordered by due time, then by insertion order.
//
// Capacity: holds at most `capacity` timers, fixed in the constructor, which
// makes the only allocation; add() refuses with 0 when full (the caller
// answers server_busy). Nothing allocates afterwards.
//
// Ids: add() returns a non-zero id naming that one timer. An id is its slot
// index tagged with the slot's generation, bumped each time the slot is
// freed, so an id kept after its timer fired or was cancelled never cancels
// a newer timer in the same slot (the tag wraps only after 2^(32 - index
// bits) reuses of one slot: 8 million for 256 timers). cancel() is
// O(log n): each slot remembers its position in the heap.
//
// Time is whatever the caller passes (ms); the heap never reads a clock.
// Not thread-safe; the broker's loop owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace roost {

struct Timer {
    std::uint64_t due_ms = 0;
    std::uint32_t kind = 0; // what to do; the caller's enum
    std::uint64_t arg = 0;  // the caller's argument (a room, a session, a reminder slot)
    std::uint32_t id = 0;   // as returned by add()
};

class TimerHeap {
public:
    explicit TimerHeap(std::uint32_t capacity);

    // Adds a timer; returns its id (never 0), or 0 when the heap is full.
    [[nodiscard]] std::uint32_t add(std::uint64_t due_ms, std::uint32_t kind, std::uint64_t arg);

    // Removes the pending timer `id`. False when it is not pending (fired,
    // cancelled, stale, 0 or never issued).
    bool cancel(std::uint32_t id);

    // Removes the earliest timer whose due_ms <= now_ms into `out` and
    // returns true; false (and `out` untouched) when none is due. Timers
    // with equal due_ms come out in the order they were added.
    bool pop_due(std::uint64_t now_ms, Timer& out);

    // The earliest due_ms, or UINT64_MAX when empty.
    std::uint64_t next_due() const;

    std::uint32_t size() const { return size_; }
    std::uint32_t capacity() const { return capacity_; }

    // Bytes a heap of this capacity reserves (for the memory report).
    static std::size_t reserved_bytes(std::uint32_t capacity);

private:
    // One per slot. heap_at is the heap array threaded through the same
    // allocation: node i's heap_at is the slot at heap position i.
    struct Node {
        Timer t;
        std::uint64_t order = 0;     // insertion counter: ties in due_ms
        std::uint32_t gen = 0;       // bumped when the slot is freed
        std::uint32_t pos = 0;       // position in the heap while pending
        std::uint32_t heap_at = 0;   // see above
        std::uint32_t next_free = 0; // free list link while free
        bool pending = false;
    };

    bool before(std::uint32_t a, std::uint32_t b) const;
    void put(std::uint32_t pos, std::uint32_t slot);
    void sift_up(std::uint32_t pos);
    void sift_down(std::uint32_t pos);
    void remove_at(std::uint32_t pos);

    std::uint32_t capacity_;
    std::uint32_t size_ = 0;
    std::uint32_t free_head_;
    std::uint32_t index_bits_; // low id bits: slot + 1
    std::uint32_t gen_mask_;   // high id bits: the slot's generation
    std::uint64_t added_ = 0;
    std::vector<Node> nodes_;
};

} // namespace roost
