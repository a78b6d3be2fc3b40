#include "platform/os.h"

#include <sys/random.h>

#include <chrono>

namespace roost {

std::uint64_t SystemClock::now_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

std::uint64_t OsRandom::next() {
    std::uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v)) {
        return v;
    }
    static SplitMix fallback(SystemClock().now_ms());
    return fallback.next();
}

} // namespace roost
