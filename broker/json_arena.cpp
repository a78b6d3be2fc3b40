#include "broker/json_arena.h"

#include <cjson/cJSON.h>

#include <cstdint>

namespace roost {

namespace {

// The arena cJSON allocates from while a JsonArenaScope is open.
JsonArena* g_current = nullptr;

void* arena_malloc(std::size_t n) { return g_current != nullptr ? g_current->allocate(n) : nullptr; }
void arena_free(void*) {}

} // namespace

JsonArena::JsonArena(std::size_t capacity)
    : storage_(new unsigned char[capacity + kAlign]), capacity_(capacity) {
    const auto addr = reinterpret_cast<std::uintptr_t>(storage_.get());
    base_ = storage_.get() + ((kAlign - addr % kAlign) % kAlign);
}

void* JsonArena::allocate(std::size_t n) noexcept {
    const std::size_t size = n == 0 ? kAlign : n;
    if (size > capacity_ - used_) {
        exhausted_ = true;
        return nullptr;
    }
    const std::size_t rounded = (size + kAlign - 1) / kAlign * kAlign;
    void* p = base_ + used_;
    // capacity_ need not be a multiple of kAlign: the last block may be short
    // of its rounding, which no caller sees.
    used_ = rounded > capacity_ - used_ ? capacity_ : used_ + rounded;
    if (used_ > high_water_) high_water_ = used_;
    ++allocations_;
    return p;
}

void JsonArena::reset() noexcept {
    used_ = 0;
    exhausted_ = false;
}

JsonArenaScope::JsonArenaScope(JsonArena& arena) noexcept : previous_(g_current) {
    g_current = &arena;
    cJSON_Hooks hooks{arena_malloc, arena_free};
    cJSON_InitHooks(&hooks);
}

JsonArenaScope::~JsonArenaScope() {
    g_current = previous_;
    if (previous_ == nullptr) cJSON_InitHooks(nullptr); // back to malloc/free
}

} // namespace roost
