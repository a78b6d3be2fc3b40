// TimerHeap: a binary min-heap over slot indices. The contract is in
// timers.h.
#include "broker/timers.h"

#include <cstdint>

namespace roost {

namespace {

std::uint32_t bit_width(std::uint32_t v) {
    std::uint32_t n = 0;
    while (v != 0) {
        ++n;
        v >>= 1;
    }
    return n;
}

} // namespace

TimerHeap::TimerHeap(std::uint32_t capacity)
    : capacity_(capacity), free_head_(0), index_bits_(bit_width(capacity) == 0 ? 1 : bit_width(capacity)),
      gen_mask_(index_bits_ >= 32 ? 0 : 0xffffffffu >> index_bits_), nodes_(capacity) {
    for (std::uint32_t i = 0; i < capacity; ++i) {
        nodes_[i].next_free = i + 1;
    }
}

std::size_t TimerHeap::reserved_bytes(std::uint32_t capacity) {
    return sizeof(TimerHeap) + std::size_t{capacity} * sizeof(Node);
}

bool TimerHeap::before(std::uint32_t a, std::uint32_t b) const {
    const Node& x = nodes_[a];
    const Node& y = nodes_[b];
    return x.t.due_ms != y.t.due_ms ? x.t.due_ms < y.t.due_ms : x.order < y.order;
}

void TimerHeap::put(std::uint32_t pos, std::uint32_t slot) {
    nodes_[pos].heap_at = slot;
    nodes_[slot].pos = pos;
}

void TimerHeap::sift_up(std::uint32_t pos) {
    const std::uint32_t slot = nodes_[pos].heap_at;
    while (pos > 0) {
        const std::uint32_t parent = (pos - 1) / 2;
        const std::uint32_t ps = nodes_[parent].heap_at;
        if (!before(slot, ps)) {
            break;
        }
        put(pos, ps);
        pos = parent;
    }
    put(pos, slot);
}

void TimerHeap::sift_down(std::uint32_t pos) {
    const std::uint32_t slot = nodes_[pos].heap_at;
    for (;;) {
        std::uint32_t child = 2 * pos + 1;
        if (child >= size_) {
            break;
        }
        if (child + 1 < size_ && before(nodes_[child + 1].heap_at, nodes_[child].heap_at)) {
            ++child;
        }
        const std::uint32_t cs = nodes_[child].heap_at;
        if (!before(cs, slot)) {
            break;
        }
        put(pos, cs);
        pos = child;
    }
    put(pos, slot);
}

// Takes the timer at heap position `pos` out and frees its slot.
void TimerHeap::remove_at(std::uint32_t pos) {
    const std::uint32_t slot = nodes_[pos].heap_at;
    --size_;
    if (pos != size_) {
        // The last timer fills the hole, then moves down or up to its place.
        const std::uint32_t moved = nodes_[size_].heap_at;
        put(pos, moved);
        sift_down(pos);
        sift_up(nodes_[moved].pos);
    }
    Node& n = nodes_[slot];
    n.pending = false;
    n.gen = (n.gen + 1) & gen_mask_;
    n.next_free = free_head_;
    free_head_ = slot;
}

std::uint32_t TimerHeap::add(std::uint64_t due_ms, std::uint32_t kind, std::uint64_t arg) {
    if (size_ == capacity_) {
        return 0;
    }
    const std::uint32_t slot = free_head_;
    Node& n = nodes_[slot];
    free_head_ = n.next_free;
    n.pending = true;
    n.order = ++added_;
    n.t.due_ms = due_ms;
    n.t.kind = kind;
    n.t.arg = arg;
    n.t.id = static_cast<std::uint32_t>(std::uint64_t{n.gen} << index_bits_) | (slot + 1);
    put(size_, slot);
    ++size_;
    sift_up(size_ - 1);
    return n.t.id;
}

bool TimerHeap::cancel(std::uint32_t id) {
    const std::uint32_t low = index_bits_ >= 32 ? id : id & ((1u << index_bits_) - 1);
    if (low == 0 || low > capacity_) {
        return false;
    }
    const Node& n = nodes_[low - 1];
    if (!n.pending || n.t.id != id) {
        return false;
    }
    remove_at(n.pos);
    return true;
}

bool TimerHeap::pop_due(std::uint64_t now_ms, Timer& out) {
    if (size_ == 0) {
        return false;
    }
    const Node& top = nodes_[nodes_[0].heap_at];
    if (top.t.due_ms > now_ms) {
        return false;
    }
    out = top.t;
    remove_at(0);
    return true;
}

std::uint64_t TimerHeap::next_due() const {
    return size_ == 0 ? UINT64_MAX : nodes_[nodes_[0].heap_at].t.due_ms;
}

} // namespace roost
