// FreeList: every entry lent once before any is lent twice, last in first
// out, refusal when all are lent, and the count of entries in use.
#include "platform/free_list.h"

#include "tests/support/unit.h"

namespace {

void lends_each_entry_then_refuses(void**) {
    roost::FreeList f(3);
    assert_int_equal(f.size(), 3);
    assert_int_equal(f.in_use(), 0);
    const int a = f.take(), b = f.take(), c = f.take();
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(c, 2);
    assert_int_equal(f.in_use(), 3);
    assert_int_equal(f.take(), -1);
    assert_int_equal(f.in_use(), 3);
}

void the_last_returned_is_lent_first(void**) {
    roost::FreeList f(4);
    const int a = f.take(), b = f.take();
    f.put(a);
    f.put(b);
    assert_int_equal(f.in_use(), 0);
    assert_int_equal(f.take(), b);
    assert_int_equal(f.take(), a);
    assert_int_equal(f.take(), 2); // an untouched entry only when the used ones are out
    assert_int_equal(f.in_use(), 3);
}

void empty_list_lends_nothing(void**) {
    roost::FreeList f;
    assert_int_equal(f.take(), -1);
    f.reset(1);
    assert_int_equal(f.take(), 0);
    assert_int_equal(f.take(), -1);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lends_each_entry_then_refuses),
        cmocka_unit_test(the_last_returned_is_lent_first),
        cmocka_unit_test(empty_list_lends_nothing),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
