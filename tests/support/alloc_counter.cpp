// Counts every heap allocation of the test process: operator new, and
// malloc/calloc/realloc (cJSON, libc). Under AddressSanitizer the sanitizer's
// malloc hooks count them; with a static glibc the linker wraps malloc;
// otherwise malloc is wrapped around glibc's own __libc_* functions. Link this file into a test to use alloc_count().
#include "tests/support/alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define ROOST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROOST_ASAN 1
#endif
#endif

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}

namespace roost_test {
std::uint64_t alloc_count() { return g_allocs.load(std::memory_order_relaxed); }
} // namespace roost_test

#if defined(ROOST_ASAN)
// From the sanitizer runtime (GCC ships no header for it).
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*));
namespace {
void on_malloc(const volatile void*, std::size_t) { g_allocs.fetch_add(1, std::memory_order_relaxed); }
void on_free(const volatile void*) {}
struct InstallHooks {
    InstallHooks() { __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free); }
} install_hooks;
} // namespace
#elif defined(ROOST_ALLOC_WRAP)
// A static glibc (armv6) defines malloc and __libc_malloc in one object, so
// malloc cannot be replaced there; the linker's --wrap=malloc (and calloc,
// realloc, free; tests/CMakeLists.txt) sends every call from the other
// objects here instead, libstdc++'s operator new and cJSON included.
extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
void __real_free(void*);

void* __wrap_malloc(std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __real_malloc(n);
}
void* __wrap_calloc(std::size_t a, std::size_t b) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __real_calloc(a, b);
}
void* __wrap_realloc(void* p, std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __real_realloc(p, n);
}
void __wrap_free(void* p) { __real_free(p); }
}
#else
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
}
#endif
