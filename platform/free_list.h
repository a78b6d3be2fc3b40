// FreeList: which of `count` fixed entries are free, handed out last in,
// first out: the most recently returned entry is lent again first, so only
// as many entries as were ever lent at once get touched (and stay resident).
// Shared by the platform's fixed pools (BufferPool, ScratchPool, PageSlots).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace roost {

class FreeList {
public:
    FreeList() = default;
    explicit FreeList(std::size_t count) { reset(count); }
    // `count` entries, all free.
    void reset(std::size_t count) {
        count_ = count;
        free_.clear();
        free_.reserve(count);
        for (std::size_t i = count; i > 0; --i) {
            free_.push_back(static_cast<std::uint32_t>(i - 1));
        }
    }
    // An entry, or -1 when every one is lent.
    int take() {
        if (free_.empty()) return -1;
        const std::uint32_t i = free_.back();
        free_.pop_back();
        return static_cast<int>(i);
    }
    void put(int index) { free_.push_back(static_cast<std::uint32_t>(index)); }
    std::size_t in_use() const { return count_ - free_.size(); }
    std::size_t size() const { return count_; }

private:
    std::size_t count_ = 0;
    std::vector<std::uint32_t> free_;
};

} // namespace roost
