// Tests for broker/names.cpp: rooms, nicks, data keys and direct-message
// room names, table-driven.
#include "broker/names.h"

#include "tests/support/unit.h"

#include <string>
#include <vector>

namespace {

struct NameCase {
    std::string in;
    const char* out; // folded result, or nullptr when invalid
};

void fold_room_names(void**) {
    const std::string max32(32, 'z');
    const std::vector<NameCase> cases = {
        {"general", "general"},
        {"General", "general"},
        {"ROOM-1_x", "room-1_x"},
        {"9lives", "9lives"},
        {"a", "a"},
        {max32, max32.c_str()},
        {std::string(33, 'z'), nullptr},
        {"", nullptr},
        {"_room", nullptr},
        {"-room", nullptr},
        {"ro om", nullptr},
        {"room.x", nullptr},
        {"caf\xC3\xA9", nullptr},
        {"@ann+bob", nullptr}, // a DM name is not a plain room
        {std::string("a\0b", 3), nullptr},
    };
    for (const NameCase& c : cases) {
        char buf[roost::kRoomNameMax];
        const std::string_view got = roost::fold_room_name(c.in, buf, sizeof buf);
        const char* want = c.out;
        if (want == nullptr) {
            if (!got.empty()) fail_msg("'%s' accepted", c.in.c_str());
        } else if (got != want) {
            fail_msg("'%s' folded to '%.*s', want '%s'", c.in.c_str(), static_cast<int>(got.size()), got.data(), want);
        }
    }
}

void room_name_valid_wants_canonical(void**) {
    assert_true(roost::room_name_valid("lobby"));
    assert_false(roost::room_name_valid("Lobby"));
    assert_false(roost::room_name_valid(""));
    assert_false(roost::room_name_valid("@ann+bob"));
}

void fold_needs_room_in_the_buffer(void**) {
    char small[4];
    assert_true(roost::fold_room_name("abcde", small, sizeof small).empty());
    assert_string_equal(std::string(roost::fold_room_name("ABCD", small, sizeof small)).c_str(), "abcd");
}

void nicks(void**) {
    const std::vector<std::pair<std::string, bool>> cases = {
        {"ann", true},       {"Ann.B-c_9", true},     {".", true},         {std::string(24, 'x'), true},
        {"", false},         {std::string(25, 'x'), false}, {"a b", false}, {"a+b", false},
        {"a@b", false},      {"\xC3\xA9", false},      {std::string("a\0", 2), false},
    };
    for (const auto& c : cases) {
        if (roost::nick_valid(c.first) != c.second) fail_msg("nick '%s'", c.first.c_str());
        if (roost::data_key_valid(c.first) != c.second) fail_msg("key '%s'", c.first.c_str());
    }
}

void nick_equality_ignores_case(void**) {
    assert_true(roost::nick_equal("Ann", "ann"));
    assert_true(roost::nick_equal("A.B-c", "a.b-C"));
    assert_false(roost::nick_equal("ann", "anne"));
    assert_false(roost::nick_equal("ann", "bob"));
    assert_true(roost::nick_equal("", ""));
}

void dm_room_names(void**) {
    struct Case {
        const char* a;
        const char* b;
        const char* want; // nullptr: invalid
    };
    const std::vector<Case> cases = {
        {"ann", "bob", "@ann+bob"},  {"Bob", "ann", "@ann+bob"}, {"BOB", "Ann", "@ann+bob"},
        {"ann", "Ann", "@ann+ann"},  {"a.b", "a-b", "@a-b+a.b"}, {"zed", "Z", "@z+zed"},
        {"ann", "", nullptr},        {"ann", "b b", nullptr},    {"a+b", "c", nullptr},
    };
    for (const Case& c : cases) {
        char buf[roost::kDmRoomNameMax];
        const std::string_view got = roost::dm_room_name(c.a, c.b, buf, sizeof buf);
        if (c.want == nullptr) {
            if (!got.empty()) fail_msg("%s/%s accepted", c.a, c.b);
            continue;
        }
        if (got != c.want) fail_msg("%s/%s gave '%.*s'", c.a, c.b, static_cast<int>(got.size()), got.data());
        roost::DmNicks nicks;
        assert_true(roost::parse_dm_room_name(got, nicks));
        assert_true(roost::nick_equal(nicks.a, c.a) || roost::nick_equal(nicks.a, c.b));
        assert_true(roost::nick_equal(nicks.b, c.a) || roost::nick_equal(nicks.b, c.b));
        assert_true(nicks.a <= nicks.b);
    }
    // The longest pair fits kDmRoomNameMax exactly; one byte less does not.
    const std::string n24(24, 'n');
    char buf[roost::kDmRoomNameMax];
    assert_int_equal(roost::dm_room_name(n24, n24, buf, sizeof buf).size(), roost::kDmRoomNameMax);
    assert_true(roost::dm_room_name(n24, n24, buf, sizeof buf - 1).empty());
}

void parse_dm_room_name_table(void**) {
    const std::vector<std::pair<std::string, bool>> cases = {
        {"@ann+bob", true},     {"@a+a", true},          {"@a.b+c-d", true},
        {"@bob+ann", false},    {"@Ann+bob", false},     {"ann+bob", false},
        {"@ann", false},        {"@+bob", false},        {"@ann+", false},
        {"@a+b+c", false},      {"@a b+c", false},       {"@", false},
        {"@" + std::string(25, 'a') + "+b", false},      {"@a+" + std::string(24, 'b'), true},
    };
    for (const auto& c : cases) {
        roost::DmNicks nicks;
        if (roost::parse_dm_room_name(c.first, nicks) != c.second) fail_msg("'%s'", c.first.c_str());
    }
    roost::DmNicks nicks;
    assert_true(roost::parse_dm_room_name("@ann+bob", nicks));
    assert_true(nicks.a == "ann");
    assert_true(nicks.b == "bob");
}

void fold_any_room_name_accepts_both(void**) {
    const std::vector<NameCase> cases = {
        {"Lobby", "lobby"},   {"@ann+bob", "@ann+bob"}, {"@Ann+BOB", "@ann+bob"},
        {"@bob+ann", nullptr}, {"@ann", nullptr},       {"@ann+b b", nullptr},
        {"", nullptr},
    };
    for (const NameCase& c : cases) {
        char buf[roost::kAnyRoomNameMax];
        const std::string_view got = roost::fold_any_room_name(c.in, buf, sizeof buf);
        if (c.out == nullptr) {
            if (!got.empty()) fail_msg("'%s' accepted", c.in.c_str());
        } else if (got != c.out) {
            fail_msg("'%s' gave '%.*s'", c.in.c_str(), static_cast<int>(got.size()), got.data());
        }
    }
    assert_true(roost::is_dm_room_name("@x"));
    assert_false(roost::is_dm_room_name("x"));
    assert_false(roost::is_dm_room_name(""));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fold_room_names),
        cmocka_unit_test(room_name_valid_wants_canonical),
        cmocka_unit_test(fold_needs_room_in_the_buffer),
        cmocka_unit_test(nicks),
        cmocka_unit_test(nick_equality_ignores_case),
        cmocka_unit_test(dm_room_names),
        cmocka_unit_test(parse_dm_room_name_table),
        cmocka_unit_test(fold_any_room_name_accepts_both),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
