// Tests for broker/decoder.cpp: every message type decoded, every error code
// the decoder produces reached (table-driven, with the message naming the
// problem and the ref; the table is tests/support/decoder_cases.h), and the
// limits it is built with applied. Its memory (views, arena, no heap per
// decode) is test_decoder_memory.cpp's.
#include "broker/decoder.h"

#include "tests/support/decoder_cases.h"

#include <string>
#include <vector>

namespace {

using namespace roost_test;
using roost::CommandType;

// ---- Valid frames -----------------------------------------------------------

void hello(void**) {
    roost::Decoder d(kLimits);
    Decoded r = run(d, "{\"type\":\"hello\",\"nick\":\"Ann.B\"}");
    expect_ok(r);
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::hello));
    assert_string_equal(sv(r.c.nick).c_str(), "Ann.B");
    assert_true(r.c.token.empty() && r.c.key.empty());

    r = run(d, "{\"nick\":\"bob\",\"token\":\"t0k\",\"key\":\"my secret \xC3\xA9\",\"type\":\"hello\",\"x\":[1]}");
    expect_ok(r);
    assert_string_equal(sv(r.c.token).c_str(), "t0k");
    assert_string_equal(sv(r.c.key).c_str(), "my secret \xC3\xA9");
    r = run(d, "{\"type\":\"hello\",\"nick\":\"n\",\"key\":\"" + std::string(128, 'k') + "\"}");
    expect_ok(r);
    assert_int_equal(r.c.key.size(), 128);
}

void join(void**) {
    roost::Decoder d(kLimits);
    Decoded r = run(d, "{\"type\":\"join\",\"room\":\"General-1\"}");
    expect_ok(r);
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::join));
    assert_string_equal(sv(r.c.room).c_str(), "general-1");
    assert_false(r.c.has_since);
    assert_false(r.c.has_backlog);
    assert_int_equal(r.c.backlog, kLimits.backlog);

    r = run(d, "{\"type\":\"join\",\"room\":\"lobby\",\"since\":{\"epoch\":\"k3x9\",\"seq\":41},\"backlog\":10}");
    expect_ok(r);
    assert_true(r.c.has_since);
    assert_string_equal(sv(r.c.since_epoch).c_str(), "k3x9");
    assert_int_equal(r.c.since_seq, 41);
    assert_true(r.c.has_backlog);
    assert_int_equal(r.c.backlog, 10);

    struct Backlog {
        const char* json;
        unsigned want;
    };
    for (const Backlog& b : {Backlog{"0", 0}, Backlog{"256", 256}, Backlog{"257", 256}, Backlog{"1000000", 256},
                             Backlog{"9007199254740991", 256}, Backlog{"1e2", 100}, Backlog{"7.0", 7}}) {
        r = run(d, std::string("{\"type\":\"join\",\"room\":\"a\",\"backlog\":") + b.json + "}");
        expect_ok(r);
        assert_int_equal(r.c.backlog, b.want);
    }
    r = run(d, "{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":\"\",\"seq\":0}}");
    expect_ok(r);
    assert_true(r.c.has_since);
    r = run(d, "{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":\"" + std::string(16, 'e') + "\",\"seq\":0}}");
    expect_ok(r);
}

void rooms_fold_and_dm_names_pass(void**) {
    roost::Decoder d(kLimits);
    struct Case {
        const char* type_fields; // after "type":
        const char* room;
        const char* want;
    };
    const std::vector<Case> cases = {
        {"\"join\"", "LOBBY", "lobby"},
        {"\"leave\"", "Lobby", "lobby"},
        {"\"typing\",\"on\":true", "A_b-C", "a_b-c"},
        {"\"read\",\"seq\":3", "ROOM", "room"},
        {"\"say\",\"text\":\"hi\"", "Up", "up"},
        {"\"join\"", "@ann+bob", "@ann+bob"},
        {"\"say\",\"text\":\"hi\"", "@Ann+BOB", "@ann+bob"},
        {"\"read\",\"seq\":1", "@a+" "bbbbbbbbbbbbbbbbbbbbbbbb", "@a+bbbbbbbbbbbbbbbbbbbbbbbb"},
        {"\"join\"", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},
    };
    for (const Case& c : cases) {
        const Decoded r = run(d, std::string("{\"type\":") + c.type_fields + ",\"room\":\"" + c.room + "\"}");
        if (r.e != Errc::ok) fail_msg("%s: %s", c.room, r.err.message);
        assert_string_equal(sv(r.c.room).c_str(), c.want);
    }
}

void leave_typing_read_ping(void**) {
    roost::Decoder d(kLimits);
    Decoded r = run(d, "{\"type\":\"leave\",\"room\":\"x\"}");
    expect_ok(r);
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::leave));

    r = run(d, "{\"type\":\"typing\",\"room\":\"x\",\"on\":true}");
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::typing));
    assert_true(r.c.on);
    r = run(d, "{\"type\":\"typing\",\"room\":\"x\",\"on\":false}");
    expect_ok(r);
    assert_false(r.c.on);

    r = run(d, "{\"type\":\"read\",\"room\":\"x\",\"seq\":9007199254740991}");
    expect_ok(r);
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::read));
    assert_true(r.c.seq == 9007199254740991ULL);
    r = run(d, "{\"type\":\"read\",\"room\":\"x\",\"seq\":-0}");
    expect_ok(r);
    assert_int_equal(r.c.seq, 0);

    r = run(d, " \t\r\n{\"type\":\"ping\"}\n ");
    expect_ok(r);
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::ping));
    r = run(d, "{\"type\":\"ping\",\"extra\":[1,{\"a\":null,\"b\":[true,false]},\"\\u00e9\"],\"type2\":7}");
    expect_ok(r);
}

void say_and_dm(void**) {
    roost::Decoder d(kLimits);
    Decoded r = run(d, say_text("\"hello \\\"world\\\"\\n\\u00e9\\ud83d\\ude00 /\\/\""));
    expect_ok(r);
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::say));
    assert_string_equal(sv(r.c.text).c_str(), "hello \"world\"\n\xC3\xA9\xF0\x9F\x98\x80 //");
    assert_string_equal(sv(r.c.cid).c_str(), "c1");
    assert_true(r.c.data_json.empty());

    r = run(d, "{\"type\":\"dm\",\"to\":\"Bob\",\"text\":\"psst\",\"cid\":\"" + std::string(64, '~') + "\"}");
    expect_ok(r);
    assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::dm));
    assert_string_equal(sv(r.c.to).c_str(), "Bob");
    assert_string_equal(sv(r.c.text).c_str(), "psst");
    assert_int_equal(r.c.cid.size(), 64);

    // Exactly max_text bytes, ASCII and multibyte; escapes count decoded.
    r = run(d, say_text("\"" + std::string(2048, 'x') + "\""));
    expect_ok(r);
    std::string euro;
    for (int i = 0; i < 682; ++i) euro += "\xE2\x82\xAC";
    r = run(d, say_text("\"" + euro + "ab\""));
    expect_ok(r);
    assert_int_equal(r.c.text.size(), 2048);
    std::string escaped;
    for (int i = 0; i < 2048; ++i) escaped += "\\n";
    r = run(d, say_text("\"" + escaped + "\""));
    expect_ok(r);
}

void data_is_validated_and_reencoded(void**) {
    roost::Decoder d(kLimits);
    Decoded r = run(d, say_data("{ \"t\" : 21.50, \"h\":1e2, \"ok\":true, \"off\":false, \"s\":\"x\\\"y\\u0001\", \"n\":-0.5 }",
                                "\"text\":\"reading\","));
    expect_ok(r);
    assert_string_equal(sv(r.c.text).c_str(), "reading");
    assert_string_equal(sv(r.c.data_json).c_str(),
                        "{\"t\":21.5,\"h\":100,\"ok\":true,\"off\":false,\"s\":\"x\\\"y\\u0001\",\"n\":-0.5}");

    r = run(d, say_data("{\"temp\":21}")); // no text
    expect_ok(r);
    assert_true(r.c.text.empty());
    assert_string_equal(sv(r.c.data_json).c_str(), "{\"temp\":21}");
    r = run(d, say_data("{\"temp\":21}", "\"text\":\"\","));
    expect_ok(r);

    r = run(d, say_data(data_keys(16)));
    expect_ok(r);
    r = run(d, say_data("{\"s\":\"" + std::string(64, 's') + "\"}"));
    expect_ok(r);
    // 64 bytes of control characters, each re-encoded as \u00XX, still fit.
    std::string ctl;
    for (int i = 0; i < 64; ++i) ctl += "\\u001f";
    std::string many = "{";
    for (int i = 0; i < 16; ++i) many += (i ? ",\"" : "\"") + std::string(23, 'k') + static_cast<char>('a' + i) + "\":\"" + ctl + "\"";
    r = run(d, say_data(many + "}"));
    expect_ok(r);
    assert_true(r.c.data_json.size() > 16 * 64 * 6);
    r = run(d, "{\"type\":\"dm\",\"to\":\"bob\",\"data\":{\"big\":1.7976931348623157e308,\"k.-_\":\"\xF0\x9F\x90\xA6\"}}");
    expect_ok(r);
    assert_string_equal(sv(r.c.data_json).c_str(), "{\"big\":1.7976931348623157e+308,\"k.-_\":\"\xF0\x9F\x90\xA6\"}");

    // An empty object is no data: the text is needed again.
    r = run(d, say_data("{}", "\"text\":\"t\","));
    expect_ok(r);
    assert_true(r.c.data_json.empty());
}

void frame_of_exactly_max_frame(void**) {
    roost::Decoder d(kLimits);
    std::string f = "{\"type\":\"ping\",\"pad\":\"\"}";
    f.insert(f.size() - 2, kLimits.max_frame - f.size(), 'p');
    assert_int_equal(f.size(), kLimits.max_frame);
    expect(Errc::ok, run(d, f));
}
void bad_frames_table(void**) {
    roost::Decoder d(kLimits);
    int n = 0;
    for (const Bad& c : bad_cases()) {
        const Decoded r = run(d, c.frame);
        const std::string head = c.frame.substr(0, 70);
        if (r.e != c.want) {
            fail_msg("case %d '%s': got %s (%s), want %s", n, head.c_str(), roost::errc_code(r.e), r.err.message,
                     roost::errc_code(c.want));
        }
        assert_non_null(r.err.message);
        if (c.want != Errc::ok && r.err.message[0] == '\0') fail_msg("case %d: empty message", n);
        if (c.message_part != nullptr && std::string(r.err.message).find(c.message_part) == std::string::npos) {
            fail_msg("case %d '%s': message '%s' lacks '%s'", n, head.c_str(), r.err.message, c.message_part);
        }
        if (c.ref != nullptr && r.err.ref != c.ref) {
            fail_msg("case %d '%s': ref '%s', want '%s'", n, head.c_str(), sv(r.err.ref).c_str(), c.ref);
        }
        if (r.e != Errc::ok) assert_int_equal(static_cast<int>(r.c.type), static_cast<int>(CommandType::ping));
        ++n;
    }
    print_message("%d frames checked\n", n);
}

// Every error code the decoder can produce is reached by the table.
void every_decoder_error_is_covered(void**) {
    for (Errc e : {Errc::bad_json, Errc::bad_request, Errc::unknown_type, Errc::text_too_long, Errc::bad_utf8}) {
        bool seen = false;
        for (const Bad& c : bad_cases()) seen = seen || c.want == e;
        if (!seen) fail_msg("%s not covered", roost::errc_code(e));
    }
}

void small_limits_apply(void**) {
    roost::CoreLimits lim;
    lim.max_text = 4;
    lim.max_frame = 128;
    lim.ring_msgs = 8;
    lim.backlog = 20; // over the ring: the default is clamped too
    lim.max_data_keys = 2;
    lim.max_data_string = 3;
    lim.max_cid = 2;
    lim.max_key = 3;
    roost::Decoder d(lim);
    expect(Errc::ok, run(d, say_text("\"abcd\"")));
    expect(Errc::text_too_long, run(d, say_text("\"abcde\"")));
    Decoded r = run(d, "{\"type\":\"join\",\"room\":\"a\"}");
    assert_int_equal(r.c.backlog, 8);
    r = run(d, "{\"type\":\"join\",\"room\":\"a\",\"backlog\":9}");
    assert_int_equal(r.c.backlog, 8);
    expect(Errc::bad_request, run(d, say_data("{\"a\":1,\"b\":2,\"c\":3}")));
    expect(Errc::ok, run(d, say_data("{\"a\":\"xyz\",\"b\":2}")));
    expect(Errc::bad_request, run(d, say_data("{\"a\":\"wxyz\"}")));
    expect(Errc::bad_request, run(d, "{\"type\":\"say\",\"room\":\"a\",\"text\":\"x\",\"cid\":\"abc\"}"));
    expect(Errc::bad_request, run(d, "{\"type\":\"hello\",\"nick\":\"a\",\"key\":\"abcd\"}"));
    const std::string big = "{\"type\":\"ping\",\"pad\":\"" + std::string(110, 'p') + "\"}";
    expect(Errc::bad_request, run(d, big));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello),
        cmocka_unit_test(join),
        cmocka_unit_test(rooms_fold_and_dm_names_pass),
        cmocka_unit_test(leave_typing_read_ping),
        cmocka_unit_test(say_and_dm),
        cmocka_unit_test(data_is_validated_and_reencoded),
        cmocka_unit_test(frame_of_exactly_max_frame),
        cmocka_unit_test(bad_frames_table),
        cmocka_unit_test(every_decoder_error_is_covered),
        cmocka_unit_test(small_limits_apply),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
