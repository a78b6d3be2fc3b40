// RxArena: see rx_arena.h.
#include "platform/rx_arena.h"

#include <libwebsockets.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace roost {
namespace {

struct Arena {
    char* base = nullptr;
    std::size_t slot_bytes = 0, slots = 0, buffer_bytes = 0;
    std::vector<std::uint32_t> free_slots; // a stack of free slot numbers
};

Arena g_arena;

bool in_arena(const void* p) {
    const auto* c = static_cast<const char*>(p);
    return g_arena.base != nullptr && c >= g_arena.base && c < g_arena.base + g_arena.slot_bytes * g_arena.slots;
}

void release(void* p) {
    const auto at = static_cast<std::size_t>(static_cast<char*>(p) - g_arena.base) / g_arena.slot_bytes;
    char* slot = g_arena.base + at * g_arena.slot_bytes;
    // Drop whatever lws wrote: the pages read as zero and leave RSS.
    madvise(slot, g_arena.slot_bytes, MADV_DONTNEED);
    g_arena.free_slots.push_back(static_cast<std::uint32_t>(at));
}

// lws's allocator contract: realloc semantics, size 0 frees.
void* lws_allocator(void* ptr, std::size_t size, const char* reason) {
    if (ptr != nullptr && in_arena(ptr)) {
        if (size == 0) {
            release(ptr);
            return nullptr;
        }
        if (size <= g_arena.buffer_bytes) {
            return ptr;
        }
        void* moved = std::malloc(size);
        if (moved != nullptr) {
            std::memcpy(moved, ptr, g_arena.buffer_bytes);
            release(ptr);
        }
        return moved;
    }
    if (ptr == nullptr && size > 0 && size <= g_arena.buffer_bytes && !g_arena.free_slots.empty() &&
        reason != nullptr && std::strcmp(reason, "rx_ubuf") == 0) {
        const std::uint32_t at = g_arena.free_slots.back();
        g_arena.free_slots.pop_back();
        return g_arena.base + std::size_t{at} * g_arena.slot_bytes;
    }
    if (size == 0) {
        std::free(ptr);
        return nullptr;
    }
    return std::realloc(ptr, size);
}

} // namespace

bool install_rx_arena(std::size_t slots, std::size_t buffer_bytes) {
    if (g_arena.base != nullptr) {
        return true;
    }
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t slot_bytes = (buffer_bytes + page - 1) / page * page;
    void* base = mmap(nullptr, slot_bytes * slots, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (base == MAP_FAILED) {
        return false;
    }
    g_arena.base = static_cast<char*>(base);
    g_arena.slot_bytes = slot_bytes;
    g_arena.slots = slots;
    g_arena.buffer_bytes = buffer_bytes;
    g_arena.free_slots.reserve(slots);
    for (std::size_t i = slots; i > 0; --i) {
        g_arena.free_slots.push_back(static_cast<std::uint32_t>(i - 1));
    }
    lws_set_allocator(lws_allocator);
    return true;
}

std::size_t rx_arena_in_use() { return g_arena.base == nullptr ? 0 : g_arena.slots - g_arena.free_slots.size(); }

} // namespace roost
