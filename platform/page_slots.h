// PageSlots: fixed-size, page-aligned slots in one region reserved at start
// and not touched. A slot's pages become resident only where its user
// writes, and leave RSS again when the slot is given back (madvise): for
// the big per-connection buffers libraries allocate and mostly never fill
// (lws's WebSocket receive buffer, mbedTLS's 16 KiB record buffer).
// A fresh or given-back slot reads as zero bytes.
#pragma once

#include "platform/free_list.h"

#include <cstddef>

namespace roost {

class PageSlots {
public:
    // Reserves `count` slots of at least `bytes` each. False when the region
    // cannot be mapped (the slots then stay empty and take() fails).
    bool reserve(std::size_t count, std::size_t bytes);
    // A zeroed slot, or nullptr when none is free.
    void* take();
    bool owns(const void* p) const;
    void give_back(void* p);
    std::size_t slot_bytes() const { return slot_bytes_; }
    std::size_t in_use() const { return free_.in_use(); }

private:
    char* base_ = nullptr;
    std::size_t slot_bytes_ = 0, count_ = 0;
    FreeList free_;
};

} // namespace roost
