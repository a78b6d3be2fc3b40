// Heap allocation counting for tests that prove "zero allocations per
// message" (see alloc_counter.cpp for how each build counts).
#pragma once

#include <cstdint>

namespace roost_test {
// Allocations (new, malloc, calloc, realloc) since the process started.
std::uint64_t alloc_count();
} // namespace roost_test
