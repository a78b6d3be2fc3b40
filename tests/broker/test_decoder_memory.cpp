// The decoder's memory promise: the Command's views point into its arena
// and outlive the frame, the arena holds the worst frame within the value
// and size bounds, and a decode in steady state uses no heap (the whole
// test binary's operator new is counted, and under ASan every malloc).
#include "broker/decoder.h"

#include "broker/json_arena.h"

#include "tests/support/decoder_cases.h"

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

// ---- Allocation counting ---------------------------------------------------
// Every operator new of the test binary is counted. Under AddressSanitizer
// its allocator hooks also see every malloc (cJSON's included).
namespace {
std::size_t g_news = 0;
std::size_t g_mallocs = 0;
} // namespace

void* operator new(std::size_t n) {
    ++g_news;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROOST_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ROOST_TEST_ASAN 1
#endif

#ifdef ROOST_TEST_ASAN
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                        void (*free_hook)(const volatile void*));
namespace {
void count_malloc(const volatile void*, std::size_t) { ++g_mallocs; }
void ignore_free(const volatile void*) {}
} // namespace
#endif

namespace {

using namespace roost_test;

// The Command's views point into the decoder, not into the frame, and stay
// valid until the next decode.
void views_outlive_the_frame(void**) {
    roost::Decoder d(kLimits);
    std::string frame = "{\"type\":\"say\",\"room\":\"LOBBY\",\"text\":\"hi there\",\"cid\":\"c9\",\"data\":{\"t\":1}}";
    Command c;
    DecodeError err;
    assert_int_equal(static_cast<int>(d.decode(frame.data(), frame.size(), c, err)), static_cast<int>(Errc::ok));
    frame.assign(frame.size(), 'X');
    assert_string_equal(sv(c.room).c_str(), "lobby");
    assert_string_equal(sv(c.text).c_str(), "hi there");
    assert_string_equal(sv(c.cid).c_str(), "c9");
    assert_string_equal(sv(c.data_json).c_str(), "{\"t\":1}");
    assert_true(d.arena().owns(c.text.data()));
    assert_true(d.arena().owns(c.cid.data()));
    assert_false(d.arena().owns(frame.data()));

    std::string bad = "{\"type\":\"nope\",\"cid\":\"r9\"}";
    assert_int_equal(static_cast<int>(d.decode(bad.data(), bad.size(), c, err)), static_cast<int>(Errc::unknown_type));
    bad.assign(bad.size(), 'X');
    assert_string_equal(sv(err.ref).c_str(), "r9");
}

// The worst frames within the value and size bounds fit the arena.
void arena_is_sized_for_the_worst_frame(void**) {
    roost::Decoder d(kLimits);
    const size_t cap = d.arena().capacity();
    std::vector<std::string> frames;
    // {"type":"ping","x":[...]} spends 5 values besides the array's.
    frames.push_back(many_values(static_cast<int>(roost::Decoder::kMaxValues) - 5));
    std::string strings = "{\"type\":\"ping\",\"x\":[\"\"";
    for (size_t i = 1; i < roost::Decoder::kMaxValues - 5; ++i) strings += ",\"\"";
    frames.push_back(strings + "]}");
    std::string members = "{\"type\":\"ping\"";
    for (size_t i = 0; i < roost::Decoder::kMaxValues / 2 - 2; ++i) members += ",\"" + std::to_string(i) + "\":\"\"";
    frames.push_back(members + "}");
    std::string longest = "{\"type\":\"ping\",\"a\":\"\",\"b\":\"\"}";
    longest.insert(longest.size() - 2, kLimits.max_frame - longest.size(), 'x');
    frames.push_back(longest);
    std::string numbers = "{\"type\":\"ping\",\"x\":[1e1";
    while (numbers.size() < kLimits.max_frame - 200) numbers += ",-1234567890.0123456789e-10";
    frames.push_back(numbers + "]}");
    for (const std::string& f : frames) {
        assert_true(f.size() <= kLimits.max_frame);
        const Decoded r = run(d, f);
        if (r.e != Errc::ok) fail_msg("%s (%zu bytes)", r.err.message, f.size());
        assert_false(d.arena().exhausted());
        assert_true(d.arena().used() <= cap);
    }
    print_message("arena %zu bytes, high water %zu\n", cap, d.arena().high_water());
}

// After warm-up, 10,000 decodes of valid and invalid frames allocate
// nothing: no operator new, and (under ASan) no malloc from anyone, cJSON
// included; cJSON's allocations all land in the arena.
void no_heap_per_decode(void**) {
    roost::Decoder d(kLimits);
    std::vector<std::string> frames = {
        "{\"type\":\"hello\",\"nick\":\"Ann\",\"key\":\"k\"}",
        "{\"type\":\"join\",\"room\":\"Lobby\",\"since\":{\"epoch\":\"e\",\"seq\":4},\"backlog\":5}",
        say_text("\"hello \\u00e9\\ud83d\\ude00\""),
        say_data("{\"t\":21.5,\"h\":40,\"on\":true,\"s\":\"x\\ny\"}", "\"text\":\"r\","),
        "{\"type\":\"dm\",\"to\":\"bob\",\"text\":\"hi\",\"cid\":\"x\"}",
        "{\"type\":\"typing\",\"room\":\"@ann+bob\",\"on\":true}",
        "{\"type\":\"read\",\"room\":\"a\",\"seq\":12}",
        "{\"type\":\"ping\"}",
    };
    for (const Bad& c : bad_cases()) frames.push_back(c.frame);
    Command c;
    DecodeError err;
    for (const std::string& f : frames) (void)d.decode(f.data(), f.size(), c, err); // warm-up
    const std::size_t arena_allocs = d.arena().allocations();
    const std::size_t news = g_news;
    g_mallocs = 0;
#ifdef ROOST_TEST_ASAN
    __sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free);
    void* volatile probe = std::malloc(16); // the hook does see a malloc
    std::free(probe);
    assert_int_equal(g_mallocs, 1);
    g_mallocs = 0;
#endif
    std::size_t oks = 0;
    for (int i = 0; i < 10000; ++i) {
        const std::string& f = frames[static_cast<size_t>(i) % frames.size()];
        oks += d.decode(f.data(), f.size(), c, err) == Errc::ok ? 1 : 0;
    }
    const std::size_t mallocs = g_mallocs;
#ifdef ROOST_TEST_ASAN
    __sanitizer_install_malloc_and_free_hooks(nullptr, nullptr);
    print_message("malloc hook installed: %zu mallocs\n", mallocs);
#endif
    assert_int_equal(g_news - news, 0);
    assert_int_equal(mallocs, 0);
    assert_true(oks > 0);
    assert_true(d.arena().allocations() > arena_allocs + 10000);
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(views_outlive_the_frame),
        cmocka_unit_test(arena_is_sized_for_the_worst_frame),
        cmocka_unit_test(no_heap_per_decode),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
