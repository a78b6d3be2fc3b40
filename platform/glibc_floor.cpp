// The glibc symbols newer than 2.31 that gcc 12's static libstdc++.a refers
// to, for release builds that must run on glibc 2.31 (Debian bullseye,
// Ubuntu 20.04; cross/glibc-floor.cmake). Linked into every executable of
// those builds only (ROOST_GLIBC_FLOOR); a build against the machine's own
// glibc takes them from it. Being the executable's own definitions, they are
// used even where the running glibc has its own.
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

extern "C" {

// glibc 2.32: libstdc++ drops atomic reference counting while this is
// non-zero. Zero means "maybe several threads" (libuv has a thread pool):
// always atomic, correct at any thread count.
char __libc_single_threaded = 0;

// glibc 2.36: 32 random bits from the kernel's generator (std::random_device's
// default source calls it). getrandom() is glibc 2.25 and Linux 3.17; it
// blocks only until the kernel's pool is first seeded, and a read this
// small is never partial. Like glibc's, it aborts rather than return
// something weak when the kernel cannot give randomness.
std::uint32_t arc4random() {
    std::uint32_t v = 0;
    for (;;) {
        if (getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v)) return v;
        if (errno != EINTR) std::abort();
    }
}

} // extern "C"
