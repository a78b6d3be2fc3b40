// RxArena: see rx_arena.h.
#include "platform/rx_arena.h"

#include "platform/page_slots.h"

#include <libwebsockets.h>

#include <cstdlib>
#include <cstring>

namespace roost {
namespace {

PageSlots g_slots;
std::size_t g_buffer_bytes = 0;

// lws's allocator contract: realloc semantics, size 0 frees.
void* lws_allocator(void* ptr, std::size_t size, const char* reason) {
    if (ptr != nullptr && g_slots.owns(ptr)) {
        if (size == 0) {
            g_slots.give_back(ptr);
            return nullptr;
        }
        if (size <= g_buffer_bytes) {
            return ptr;
        }
        void* moved = std::malloc(size);
        if (moved != nullptr) {
            std::memcpy(moved, ptr, g_buffer_bytes);
            g_slots.give_back(ptr);
        }
        return moved;
    }
    if (ptr == nullptr && size > 0 && size <= g_buffer_bytes && reason != nullptr &&
        std::strcmp(reason, "rx_ubuf") == 0) {
        if (void* slot = g_slots.take()) {
            return slot;
        }
    }
    if (size == 0) {
        std::free(ptr);
        return nullptr;
    }
    return std::realloc(ptr, size);
}

} // namespace

bool install_rx_arena(std::size_t slots, std::size_t buffer_bytes) {
    if (g_buffer_bytes != 0) {
        return true;
    }
    if (!g_slots.reserve(slots, buffer_bytes)) {
        return false;
    }
    g_buffer_bytes = buffer_bytes;
    lws_set_allocator(lws_allocator);
    return true;
}

std::size_t rx_arena_in_use() { return g_slots.in_use(); }

} // namespace roost
