// Tests for broker/json_arena.cpp: alignment, exhaustion, reset, and that
// cJSON allocates from the arena only inside a JsonArenaScope.
#include "broker/json_arena.h"

#include <cjson/cJSON.h>

#include "tests/support/unit.h"

#include <cstdint>
#include <cstring>

namespace {

bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % roost::JsonArena::kAlign == 0; }

void blocks_are_aligned_and_distinct(void**) {
    roost::JsonArena arena(1024);
    void* a = arena.allocate(1);
    void* b = arena.allocate(17);
    void* c = arena.allocate(0);
    void* d = arena.allocate(16);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    for (void* p : {a, b, c, d}) assert_true(aligned(p));
    assert_ptr_equal(static_cast<char*>(b), static_cast<char*>(a) + 16);
    assert_ptr_equal(static_cast<char*>(c), static_cast<char*>(b) + 32);
    assert_ptr_equal(static_cast<char*>(d), static_cast<char*>(c) + 16);
    assert_int_equal(arena.used(), 80);
    assert_int_equal(arena.allocations(), 4);
    std::memset(a, 0xAB, 16); // writable (ASan checks the bounds)
    std::memset(b, 0xCD, 32);
}

void exhaustion_returns_null_and_reset_rewinds(void**) {
    roost::JsonArena arena(100);
    assert_int_equal(arena.capacity(), 100);
    assert_non_null(arena.allocate(64));
    assert_non_null(arena.allocate(36)); // exactly the rest, though not a multiple of 16
    assert_int_equal(arena.used(), 100);
    assert_false(arena.exhausted());
    assert_null(arena.allocate(1));
    assert_true(arena.exhausted());
    assert_null(arena.allocate(SIZE_MAX)); // no overflow in the size arithmetic
    arena.reset();
    assert_false(arena.exhausted());
    assert_int_equal(arena.used(), 0);
    assert_int_equal(arena.high_water(), 100);
    void* p = arena.allocate(100);
    assert_non_null(p);
    std::memset(p, 0, 100);
    assert_null(arena.allocate(1));
}

void cjson_uses_the_arena_inside_a_scope(void**) {
    roost::JsonArena arena(64 * 1024);
    const char json[] = "{\"type\":\"say\",\"room\":\"lobby\",\"n\":[1,2.5,true,null]}";
    cJSON* root = nullptr;
    {
        roost::JsonArenaScope scope(arena);
        root = cJSON_ParseWithLength(json, sizeof json - 1);
    }
    assert_non_null(root);
    assert_true(arena.allocations() > 0);
    assert_true(arena.owns(root));
    assert_true(arena.owns(root->child->valuestring));
    int on_stack = 0;
    assert_false(arena.owns(&on_stack));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "room")->valuestring, "lobby");
    arena.reset(); // the tree is gone; no cJSON_Delete

    // Outside the scope cJSON is back on malloc/free.
    const std::size_t before = arena.allocations();
    cJSON* heap = cJSON_ParseWithLength(json, sizeof json - 1);
    assert_non_null(heap);
    assert_int_equal(arena.allocations(), before);
    cJSON_Delete(heap);
}

void exhausted_arena_fails_the_parse_cleanly(void**) {
    roost::JsonArena arena(200);
    const char json[] = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]";
    roost::JsonArenaScope scope(arena);
    assert_null(cJSON_ParseWithLength(json, sizeof json - 1));
    assert_true(arena.exhausted());
}

void scopes_nest(void**) {
    roost::JsonArena outer(4096);
    roost::JsonArena inner(4096);
    roost::JsonArenaScope a(outer);
    {
        roost::JsonArenaScope b(inner);
        assert_non_null(cJSON_ParseWithLength("[1]", 3));
        assert_true(inner.allocations() > 0);
    }
    assert_int_equal(outer.allocations(), 0);
    assert_non_null(cJSON_ParseWithLength("[1]", 3));
    assert_true(outer.allocations() > 0);
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks_are_aligned_and_distinct),
        cmocka_unit_test(exhaustion_returns_null_and_reset_rewinds),
        cmocka_unit_test(cjson_uses_the_arena_inside_a_scope),
        cmocka_unit_test(exhausted_arena_fails_the_parse_cleanly),
        cmocka_unit_test(scopes_nest),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
