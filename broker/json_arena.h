// JsonArena: a fixed-size bump allocator for cJSON, so that parsing a frame
// never touches the heap.
//
// The constructor reserves `capacity` bytes once (the only allocation).
// allocate() hands out 16-byte-aligned blocks from it and returns nullptr
// when the arena is exhausted (cJSON then fails the parse cleanly); freeing
// is a no-op, and reset() rewinds the whole arena at once. Everything
// allocated since the last reset() stays valid until the next reset(), so a
// parsed tree and every string in it can be read until then. Never pass an
// arena-built tree to cJSON_Delete() outside its JsonArenaScope.
//
// JsonArenaScope installs an arena as cJSON's allocator (cJSON_InitHooks) for
// the scope's lifetime and puts back the previous one on exit: the C
// library's malloc/free, or an enclosing scope's arena. cJSON's hooks are
// process-global; like the rest of the core this is single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace roost {

class JsonArena {
public:
    static constexpr std::size_t kAlign = 16;

    explicit JsonArena(std::size_t capacity);
    JsonArena(const JsonArena&) = delete;
    JsonArena& operator=(const JsonArena&) = delete;

    // n bytes, aligned to kAlign; nullptr when they do not fit (or n == 0
    // would: a zero-byte request still gets a distinct block).
    void* allocate(std::size_t n) noexcept;
    // Forgets every block; the memory is reused from the start.
    void reset() noexcept;

    std::size_t capacity() const { return capacity_; }
    std::size_t used() const { return used_; }
    std::size_t high_water() const { return high_water_; } // largest used() since construction
    std::size_t allocations() const { return allocations_; } // granted since construction
    bool exhausted() const { return exhausted_; }             // a request failed since reset()
    // True when p points into the arena's memory (tests and assertions).
    bool owns(const void* p) const {
        const auto a = reinterpret_cast<std::uintptr_t>(p);
        const auto b = reinterpret_cast<std::uintptr_t>(base_);
        return a >= b && a - b < capacity_;
    }

private:
    std::unique_ptr<unsigned char[]> storage_;
    unsigned char* base_ = nullptr; // storage_ rounded up to kAlign
    std::size_t capacity_;
    std::size_t used_ = 0;
    std::size_t high_water_ = 0;
    std::size_t allocations_ = 0;
    bool exhausted_ = false;
};

class JsonArenaScope {
public:
    explicit JsonArenaScope(JsonArena& arena) noexcept;
    ~JsonArenaScope();
    JsonArenaScope(const JsonArenaScope&) = delete;
    JsonArenaScope& operator=(const JsonArenaScope&) = delete;

private:
    JsonArena* previous_;
};

} // namespace roost
