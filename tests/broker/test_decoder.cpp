// Tests for broker/decoder.cpp: every message type decoded, every error code
// the decoder produces reached (table-driven, with the message naming the
// problem and the ref), views that outlive the frame, and no heap use per
// decode in steady state.
#include "broker/decoder.h"

#include "broker/json_arena.h"
#include "broker/utf8.h"

#include "tests/support/unit.h"

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

using roost::Command;
using roost::CommandType;
using roost::DecodeError;
using roost::Errc;

const roost::CoreLimits kLimits{};

struct Decoded {
    Errc e;
    Command c;
    DecodeError err;
};

Decoded run(roost::Decoder& d, const std::string& frame) {
    Decoded r{};
    r.e = d.decode(frame.data(), frame.size(), r.c, r.err);
    return r;
}

std::string sv(std::string_view s) { return std::string(s); }

void expect_ok(const Decoded& r) {
    if (r.e != Errc::ok) fail_msg("got %s: %s", roost::errc_code(r.e), r.err.message);
}

void expect(Errc want, const Decoded& r) {
    if (r.e != want) fail_msg("got %s (%s), want %s", roost::errc_code(r.e), r.err.message, roost::errc_code(want));
}

std::string say_text(const std::string& text_json) {
    return "{\"type\":\"say\",\"room\":\"lobby\",\"cid\":\"c1\",\"text\":" + text_json + "}";
}

std::string say_data(const std::string& data_json, const std::string& text = "") {
    return "{\"type\":\"say\",\"room\":\"lobby\"," + text + "\"data\":" + data_json + "}";
}

// {"k0":0,"k1":1,...} with n keys.
std::string data_keys(int n) {
    std::string s = "{";
    for (int i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    return s + "}";
}

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

// ---- Bad frames ---------------------------------------------------------------

struct Bad {
    std::string frame;
    Errc want;
    const char* message_part; // nullptr: not checked
    const char* ref;          // nullptr: not checked
};

std::string nested(int depth) { return "{\"type\":\"ping\",\"x\":" + std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']') + "}"; }

std::string many_values(int n) {
    std::string s = "{\"type\":\"ping\",\"x\":[0";
    for (int i = 1; i < n; ++i) s += ",0";
    return s + "]}";
}

const std::vector<Bad>& bad_cases() {
    static const std::vector<Bad> cases = {
        // bad_utf8: raw bytes
        {say_text("\"\xC0\xAF\""), Errc::bad_utf8, "UTF-8", ""},
        {say_text("\"\xED\xA0\x80\""), Errc::bad_utf8, "UTF-8", nullptr},
        {say_text("\"\xF8\x88\x80\x80\x80\""), Errc::bad_utf8, nullptr, nullptr},
        {say_text("\"\xF4\x90\x80\x80\""), Errc::bad_utf8, nullptr, nullptr},
        {say_text("\"\xFF\""), Errc::bad_utf8, nullptr, nullptr},
        {"{\"type\":\"say\",\"room\":\"a\",\"text\":\"\xE2\x82", Errc::bad_utf8, nullptr, nullptr},
        {"\xFE{}", Errc::bad_utf8, nullptr, nullptr},
        // bad_utf8: escapes that are not valid UTF-16
        {say_text("\"\\ud800\""), Errc::bad_utf8, "surrogate", ""}, // no tree, so no ref
        {say_text("\"\\uDC00\""), Errc::bad_utf8, "surrogate", nullptr},
        {say_text("\"\\ud800x\""), Errc::bad_utf8, nullptr, nullptr},
        {say_text("\"\\ud800\\u0041\""), Errc::bad_utf8, nullptr, nullptr},
        {say_text("\"\\ud800\\ud800\""), Errc::bad_utf8, nullptr, nullptr},
        {say_text("\"\\ude00\\ud83d\""), Errc::bad_utf8, nullptr, nullptr},
        {"{\"type\":\"ping\",\"\\udfff\":1}", Errc::bad_utf8, nullptr, nullptr},
        {"[\"\\ud800\"]", Errc::bad_utf8, nullptr, nullptr},
        // ...but a syntax error before the escape is bad_json
        {"{\"type\":\"ping\" \"x\":\"\\ud800\"}", Errc::bad_json, nullptr, nullptr},
        // bad_json
        {"", Errc::bad_json, "JSON", ""},
        {"   ", Errc::bad_json, nullptr, nullptr},
        {"{", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\"", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\"}}", Errc::bad_json, "after", nullptr},
        {"{\"type\":\"ping\"} x", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\"}{\"type\":\"ping\"}", Errc::bad_json, nullptr, nullptr},
        {std::string("{\"type\":\"ping\"}\0", 16), Errc::bad_json, nullptr, nullptr},
        {std::string("{\"type\":\0\"ping\"}", 16), Errc::bad_json, nullptr, nullptr},
        {"{'type':'ping'}", Errc::bad_json, nullptr, nullptr},
        {"{type:\"ping\"}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\",}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\",\"a\":[1,]}", Errc::bad_json, nullptr, nullptr},
        {"/* c */{\"type\":\"ping\"}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":01}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":1.}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":.5}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":+1}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":1e}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":-}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":1-2}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":0x10}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":NaN}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":Infinity}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\",\"a\":tru}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\",\"a\":nul}", Errc::bad_json, nullptr, nullptr},
        {say_text("\"a\\xb\""), Errc::bad_json, nullptr, nullptr},
        {say_text("\"\\u00zz\""), Errc::bad_json, nullptr, nullptr},
        {say_text("\"\\u12\""), Errc::bad_json, nullptr, nullptr},
        {say_text("\"\\ud800\\uzzzz\""), Errc::bad_json, nullptr, nullptr},
        {say_text("\"raw\x01" "control\""), Errc::bad_json, nullptr, nullptr},
        {say_text("\"raw\ttab\""), Errc::bad_json, nullptr, nullptr},
        {say_text("\"raw\nnewline\""), Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\",\"a\":\"unterminated}", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\",\"a\":\"ends in backslash\\", Errc::bad_json, nullptr, nullptr},
        {"{\"type\":\"ping\"\x01}", Errc::bad_json, nullptr, nullptr},
        // bad_request: not a command
        {"[]", Errc::bad_request, "object", ""},
        {"[{\"type\":\"ping\"}]", Errc::bad_request, "object", ""},
        {"1", Errc::bad_request, "object", nullptr},
        {"\"ping\"", Errc::bad_request, "object", nullptr},
        {"null", Errc::bad_request, "object", nullptr},
        {"true", Errc::bad_request, "object", nullptr},
        {"{}", Errc::bad_request, "type: required", ""},
        {"{\"Type\":\"ping\"}", Errc::bad_request, "type: required", nullptr},
        {"{\"type\":1}", Errc::bad_request, "type: must be a string", ""},
        {"{\"type\":null}", Errc::bad_request, "type: must be a string", nullptr},
        {"{\"type\":[\"ping\"]}", Errc::bad_request, "type: must be a string", nullptr},
        {"{\"type\":\"ping\",\"x\":\"\\u0000\"}", Errc::bad_request, "\\u0000", ""},
        {say_text("\"a\\u0000b\""), Errc::bad_request, "\\u0000", nullptr},
        {"{\"type\":\"ping\\u0000x\"}", Errc::bad_request, "\\u0000", nullptr},
        {nested(15), Errc::ok, nullptr, nullptr}, // 16 levels with the frame's object
        {nested(16), Errc::bad_request, "nested", nullptr},
        {nested(2000), Errc::bad_request, "nested", nullptr},
        {many_values(1019), Errc::ok, nullptr, nullptr}, // 1024 values with the 5 around them
        {many_values(1020), Errc::bad_request, "too many", nullptr},
        {"{\"type\":\"ping\",\"pad\":\"" + std::string(kLimits.max_frame, 'p') + "\"}", Errc::bad_request, "max_frame", ""},
        // hello
        {"{\"type\":\"hello\"}", Errc::bad_request, "nick: required", "hello"},
        {"{\"type\":\"hello\",\"nick\":7}", Errc::bad_request, "nick: must be a string", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"\"}", Errc::bad_request, "nick: not a valid nick", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"a b\"}", Errc::bad_request, "nick: not a valid nick", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"" + std::string(25, 'n') + "\"}", Errc::bad_request, "nick:", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"\xC3\xA9ric\"}", Errc::bad_request, "nick:", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"a\",\"token\":5}", Errc::bad_request, "token: must be a string", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"a\",\"token\":\"\"}", Errc::bad_request, "token:", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"a\",\"key\":null}", Errc::bad_request, "key: must be a string", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"a\",\"key\":\"\"}", Errc::bad_request, "key:", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"a\",\"key\":\"" + std::string(129, 'k') + "\"}", Errc::bad_request, "key:", nullptr},
        {"{\"type\":\"hello\",\"nick\":\"a\",\"key\":\"a\\nb\"}", Errc::bad_request, "key:", nullptr},
        // join
        {"{\"type\":\"join\"}", Errc::bad_request, "room: required", "join"},
        {"{\"type\":\"join\",\"room\":7}", Errc::bad_request, "room: must be a string", nullptr},
        {"{\"type\":\"join\",\"room\":\"\"}", Errc::bad_request, "room: not a valid room name", nullptr},
        {"{\"type\":\"join\",\"room\":\"Bad Room\"}", Errc::bad_request, "room: not a valid", nullptr},
        {"{\"type\":\"join\",\"room\":\"_x\"}", Errc::bad_request, "room:", nullptr},
        {"{\"type\":\"join\",\"room\":\"" + std::string(33, 'r') + "\"}", Errc::bad_request, "room:", nullptr},
        {"{\"type\":\"join\",\"room\":\"@bob+ann\"}", Errc::bad_request, "room:", nullptr},
        {"{\"type\":\"join\",\"room\":\"@ann\"}", Errc::bad_request, "room:", nullptr},
        {"{\"type\":\"join\",\"room\":\"@ann+b+c\"}", Errc::bad_request, "room:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":\"x\"}", Errc::bad_request, "since: must be an object", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":[1]}", Errc::bad_request, "since: must be an object", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":{}}", Errc::bad_request, "since.epoch: required", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":1,\"seq\":1}}", Errc::bad_request, "since.epoch: must be a string", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":\"" + std::string(17, 'e') + "\",\"seq\":1}}", Errc::bad_request, "since.epoch:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":\"e e\",\"seq\":1}}", Errc::bad_request, "since.epoch:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":\"e\"}}", Errc::bad_request, "since.seq: required", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":\"e\",\"seq\":-1}}", Errc::bad_request, "since.seq: must be a whole number", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"since\":{\"epoch\":\"e\",\"seq\":\"1\"}}", Errc::bad_request, "since.seq:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":-1}", Errc::bad_request, "backlog: must be a whole number", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":1.5}", Errc::bad_request, "backlog:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":\"5\"}", Errc::bad_request, "backlog:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":null}", Errc::bad_request, "backlog:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":9007199254740992}", Errc::bad_request, "backlog:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":9007199254740993}", Errc::bad_request, "backlog:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":1e300}", Errc::bad_request, "backlog:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":1e999}", Errc::bad_request, "backlog:", nullptr},
        {"{\"type\":\"join\",\"room\":\"a\",\"backlog\":-1e999}", Errc::bad_request, "backlog:", nullptr},
        // leave
        {"{\"type\":\"leave\"}", Errc::bad_request, "room: required", nullptr},
        {"{\"type\":\"leave\",\"room\":true}", Errc::bad_request, "room: must be a string", nullptr},
        // say
        {"{\"type\":\"say\",\"room\":\"a\"}", Errc::bad_request, "text: required", "say"},
        {"{\"type\":\"say\",\"text\":\"hi\"}", Errc::bad_request, "room: required", nullptr},
        {say_text("\"\""), Errc::bad_request, "text: must not be empty", "c1"},
        {say_text("5"), Errc::bad_request, "text: must be a string", "c1"},
        {say_text("null"), Errc::bad_request, "text: must be a string", nullptr},
        {say_text("[\"hi\"]"), Errc::bad_request, "text: must be a string", nullptr},
        {say_text("\"" + std::string(2049, 'x') + "\""), Errc::text_too_long, "text:", "c1"},
        {say_text("\"" + std::string(2047, 'x') + "\xC3\xA9\""), Errc::text_too_long, nullptr, nullptr},
        {say_text("\"" + std::string(2048, 'x') + "\\n\""), Errc::text_too_long, nullptr, nullptr},
        {"{\"type\":\"say\",\"room\":\"a\",\"text\":\"x\",\"cid\":\"\"}", Errc::bad_request, "cid:", "say"},
        {"{\"type\":\"say\",\"room\":\"a\",\"text\":\"x\",\"cid\":\"a b\"}", Errc::bad_request, "cid:", "say"},
        {"{\"type\":\"say\",\"room\":\"a\",\"text\":\"x\",\"cid\":\"\xC3\xA9\"}", Errc::bad_request, "cid:", nullptr},
        {"{\"type\":\"say\",\"room\":\"a\",\"text\":\"x\",\"cid\":\"" + std::string(65, 'c') + "\"}", Errc::bad_request, "cid:", "say"},
        {"{\"type\":\"say\",\"room\":\"a\",\"text\":\"x\",\"cid\":5}", Errc::bad_request, "cid:", nullptr},
        {"{\"type\":\"say\",\"room\":\"Bad!\",\"text\":\"x\",\"cid\":\"r-1\"}", Errc::bad_request, "room:", "r-1"},
        // data
        {say_data("[]"), Errc::bad_request, "data: must be an object", nullptr},
        {say_data("\"x\""), Errc::bad_request, "data: must be an object", nullptr},
        {say_data("null"), Errc::bad_request, "data: must be an object", nullptr},
        {say_data(data_keys(17)), Errc::bad_request, "data: more than max_data_keys", nullptr},
        {say_data("{\"a b\":1}"), Errc::bad_request, "data: keys", nullptr},
        {say_data("{\"\":1}"), Errc::bad_request, "data: keys", nullptr},
        {say_data("{\"" + std::string(25, 'k') + "\":1}"), Errc::bad_request, "data: keys", nullptr},
        {say_data("{\"x\":{}}"), Errc::bad_request, "data: values", nullptr},
        {say_data("{\"x\":{\"y\":1}}"), Errc::bad_request, "data: values", nullptr},
        {say_data("{\"x\":[1]}"), Errc::bad_request, "data: values", nullptr},
        {say_data("{\"x\":null}"), Errc::bad_request, "data: values", nullptr},
        {say_data("{\"x\":1e999}"), Errc::bad_request, "data: numbers must be finite", nullptr},
        {say_data("{\"s\":\"" + std::string(65, 's') + "\"}"), Errc::bad_request, "data: strings", nullptr},
        {say_data("{\"s\":\"" + std::string(63, 's') + "\xC3\xA9\"}"), Errc::bad_request, "data: strings", nullptr},
        {say_data("{\"t\":1,\"T\":2}"), Errc::bad_request, "data: duplicate key", nullptr},
        {say_data("{\"t\":1,\"t\":2}"), Errc::bad_request, "data: duplicate key", nullptr},
        {say_data("{}"), Errc::bad_request, "text: required", nullptr},
        {say_data("{}", "\"text\":\"\","), Errc::bad_request, "text: must not be empty", nullptr},
        {say_data("{\"a\":1}", "\"text\":\"" + std::string(2049, 'x') + "\","), Errc::text_too_long, nullptr, nullptr},
        // dm
        {"{\"type\":\"dm\",\"text\":\"x\"}", Errc::bad_request, "to: required", "dm"},
        {"{\"type\":\"dm\",\"to\":\"a b\",\"text\":\"x\"}", Errc::bad_request, "to: not a valid nick", nullptr},
        {"{\"type\":\"dm\",\"to\":[],\"text\":\"x\"}", Errc::bad_request, "to: must be a string", nullptr},
        {"{\"type\":\"dm\",\"to\":\"bob\"}", Errc::bad_request, "text: required", nullptr},
        {"{\"type\":\"dm\",\"to\":\"bob\",\"text\":\"" + std::string(2049, 'x') + "\",\"cid\":\"d1\"}", Errc::text_too_long, nullptr, "d1"},
        // typing
        {"{\"type\":\"typing\",\"room\":\"a\"}", Errc::bad_request, "on: required", "typing"},
        {"{\"type\":\"typing\",\"room\":\"a\",\"on\":\"true\"}", Errc::bad_request, "on: must be true or false", nullptr},
        {"{\"type\":\"typing\",\"room\":\"a\",\"on\":1}", Errc::bad_request, "on:", nullptr},
        {"{\"type\":\"typing\",\"on\":true}", Errc::bad_request, "room: required", nullptr},
        // read
        {"{\"type\":\"read\",\"room\":\"a\"}", Errc::bad_request, "seq: required", "read"},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":-1}", Errc::bad_request, "seq: must be a whole number", nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":1.5}", Errc::bad_request, "seq:", nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":\"1\"}", Errc::bad_request, "seq:", nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":1e400}", Errc::bad_request, "seq:", nullptr},
        {"{\"type\":\"read\",\"room\":\"a\",\"seq\":123456789012345678901234567890}", Errc::bad_request, "seq:", nullptr},
        // unknown_type, and what goes into ref
        {"{\"type\":\"shout\"}", Errc::unknown_type, "unknown type", "shout"},
        {"{\"type\":\"HELLO\",\"nick\":\"a\"}", Errc::unknown_type, nullptr, "HELLO"},
        {"{\"type\":\"\"}", Errc::unknown_type, nullptr, ""},
        {"{\"type\":\"shout\",\"cid\":\"q7\"}", Errc::unknown_type, nullptr, "q7"},
        {"{\"type\":\"shout\",\"cid\":\"not valid\"}", Errc::unknown_type, nullptr, "shout"},
        {"{\"type\":\"" + std::string(33, 't') + "\"}", Errc::unknown_type, nullptr, ""},
        {"{\"type\":\"sh out\"}", Errc::unknown_type, nullptr, ""},
    };
    return cases;
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
        cmocka_unit_test(views_outlive_the_frame),
        cmocka_unit_test(arena_is_sized_for_the_worst_frame),
        cmocka_unit_test(no_heap_per_decode),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
