// Tests for platform/glibc_floor.cpp, in builds for glibc 2.31 only (the
// cross builds run them under qemu on glibc 2.31 itself): the two symbols
// gcc 12's libstdc++.a takes from there, and libstdc++ working on them.
#include <cstdint>
#include <random>
#include <set>
#include <string>

#include "tests/support/unit.h"

extern "C" {
extern char __libc_single_threaded;
std::uint32_t arc4random();
}

namespace {

void single_threaded_is_never_claimed(void** /*state*/) {
    // Non-zero would let libstdc++ drop atomic reference counts while
    // libuv's threads run.
    assert_int_equal(__libc_single_threaded, 0);
}

void arc4random_gives_varied_32_bit_values(void** /*state*/) {
    std::set<std::uint32_t> seen;
    std::uint32_t all_or = 0, all_and = ~0u;
    for (int i = 0; i < 256; ++i) {
        const std::uint32_t v = arc4random();
        seen.insert(v);
        all_or |= v;
        all_and &= v;
    }
    assert_true(seen.size() >= 250); // collisions among 256 draws of 32 bits: almost never
    assert_int_equal(all_or, 0xFFFFFFFFu); // every bit is 1 somewhere...
    assert_int_equal(all_and, 0u);         // ...and 0 somewhere
}

void libstdcxx_runs_on_them(void** /*state*/) {
    std::random_device rd; // its default source is arc4random in gcc 12
    const unsigned a = rd(), b = rd(), c = rd();
    assert_false(a == b && b == c);
    std::string s(100, 'x');
    std::string t = s; // reference-counted paths of std::string and locale
    t += "y";
    assert_int_equal(s.size() + 1, t.size());
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_threaded_is_never_claimed),
        cmocka_unit_test(arc4random_gives_varied_32_bit_values),
        cmocka_unit_test(libstdcxx_runs_on_them),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
