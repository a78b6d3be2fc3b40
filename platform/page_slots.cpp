// PageSlots: see page_slots.h.
#include "platform/page_slots.h"

#include <sys/mman.h>
#include <unistd.h>

namespace roost {

bool PageSlots::reserve(std::size_t count, std::size_t bytes) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t slot = (bytes + page - 1) / page * page;
    if (count == 0 || slot == 0 || count > SIZE_MAX / slot) return false;
    void* base = mmap(nullptr, slot * count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return false;
    base_ = static_cast<char*>(base);
    slot_bytes_ = slot;
    count_ = count;
    free_.reset(count);
    return true;
}

void* PageSlots::take() {
    const int i = free_.take();
    return i < 0 ? nullptr : base_ + static_cast<std::size_t>(i) * slot_bytes_;
}

bool PageSlots::owns(const void* p) const {
    const auto* c = static_cast<const char*>(p);
    return base_ != nullptr && c >= base_ && c < base_ + slot_bytes_ * count_;
}

void PageSlots::give_back(void* p) {
    const auto i = static_cast<std::size_t>(static_cast<char*>(p) - base_) / slot_bytes_;
    char* slot = base_ + i * slot_bytes_;
    // Drop what was written: the pages read as zero again and leave RSS.
    madvise(slot, slot_bytes_, MADV_DONTNEED);
    free_.put(static_cast<int>(i));
}

} // namespace roost
