#include "broker/history.h"

namespace roost {

std::uint64_t RoomHistory::append(HistoryClass cls, const char* data, std::uint32_t len, const EntryMeta& meta) {
    const std::uint64_t seq = ring(cls).append_at(head_ + 1, data, len, meta);
    if (seq != 0) head_ = seq;
    return seq;
}

bool RoomHistory::restore(HistoryClass cls, std::uint64_t seq, const char* data, std::uint32_t len,
                          const EntryMeta& meta) {
    if (seq <= head_ || ring(cls).append_at(seq, data, len, meta) != seq) return false;
    head_ = seq;
    return true;
}

bool RoomHistory::get(std::uint64_t seq, const char*& data, std::uint32_t& len) const {
    return people_.get(seq, data, len) || devices_.get(seq, data, len);
}

const EntryMeta* RoomHistory::meta(std::uint64_t seq) const {
    const EntryMeta* m = people_.meta(seq);
    return m != nullptr ? m : devices_.meta(seq);
}

std::uint64_t RoomHistory::find_cid(std::uint64_t cid_key) const {
    const std::uint64_t a = people_.find_cid(cid_key), b = devices_.find_cid(cid_key);
    return a > b ? a : b;
}

std::uint64_t RoomHistory::next(std::uint64_t seq) const {
    const std::uint64_t a = people_.next_held(seq), b = devices_.next_held(seq);
    if (a == 0 && b == 0) return head_ + 1;
    if (a == 0) return b;
    if (b == 0) return a;
    return a < b ? a : b;
}

std::uint64_t RoomHistory::count_from(std::uint64_t seq, std::uint64_t cap) const {
    const std::uint64_t n = std::uint64_t{people_.count_from(seq)} + devices_.count_from(seq);
    return n < cap ? n : cap;
}

std::uint64_t RoomHistory::nth_newest(std::uint64_t n) const {
    if (n == 0 || count() == 0) return head_ + 1;
    if (n >= count()) {
        if (people_.count() == 0) return devices_.oldest();
        if (devices_.count() == 0) return people_.oldest();
        const std::uint64_t a = people_.oldest(), b = devices_.oldest();
        return a < b ? a : b;
    }
    // Walk down from the newest, taking the larger of the two rings' next.
    std::uint32_t pi = 1, di = 1; // the next candidate in each ring, counted from its newest
    std::uint64_t seq = head_ + 1;
    for (std::uint64_t k = 0; k < n; ++k) {
        const std::uint64_t a = pi <= people_.count() ? people_.nth_newest(pi) : 0;
        const std::uint64_t b = di <= devices_.count() ? devices_.nth_newest(di) : 0;
        if (a > b) {
            seq = a;
            ++pi;
        } else {
            seq = b;
            ++di;
        }
    }
    return seq;
}

void RoomHistory::reset_to(std::uint64_t head) {
    people_.reset_to(head);
    devices_.reset_to(head);
    head_ = head;
}

} // namespace roost
