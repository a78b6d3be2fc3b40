// What the decoder tests share: a frame decoded into a Command and its
// error, frames built from parts, and the table of refused frames, each
// with the error code, a part of its message and the ref it must carry
// (test_decoder.cpp checks every row; test_decoder_memory.cpp decodes them
// all again to show that refusals use no heap either).
#pragma once

#include "broker/decoder.h"

#include <string>
#include <vector>

#include "tests/support/unit.h"

namespace roost_test {

using roost::Command;
using roost::DecodeError;
using roost::Errc;

inline const roost::CoreLimits kLimits{}; // the defaults

struct Decoded {
    Errc e;
    Command c;
    DecodeError err;
};

inline Decoded run(roost::Decoder& d, const std::string& frame) {
    Decoded r{};
    r.e = d.decode(frame.data(), frame.size(), r.c, r.err);
    return r;
}

inline std::string sv(std::string_view s) { return std::string(s); }

inline void expect_ok(const Decoded& r) {
    if (r.e != Errc::ok) fail_msg("got %s: %s", roost::errc_code(r.e), r.err.message);
}

inline void expect(Errc want, const Decoded& r) {
    if (r.e != want) fail_msg("got %s (%s), want %s", roost::errc_code(r.e), r.err.message, roost::errc_code(want));
}

inline std::string say_text(const std::string& text_json) {
    return "{\"type\":\"say\",\"room\":\"lobby\",\"cid\":\"c1\",\"text\":" + text_json + "}";
}

inline std::string say_data(const std::string& data_json, const std::string& text = "") {
    return "{\"type\":\"say\",\"room\":\"lobby\"," + text + "\"data\":" + data_json + "}";
}

inline // {"k0":0,"k1":1,...} with n keys.
std::string data_keys(int n) {
    std::string s = "{";
    for (int i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    return s + "}";
}

// ---- Refused frames -----------------------------------------------------------

struct Bad {
    std::string frame;
    Errc want;
    const char* message_part; // nullptr: not checked
    const char* ref;          // nullptr: not checked
};

inline std::string nested(int depth) { return "{\"type\":\"ping\",\"x\":" + std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']') + "}"; }

inline std::string many_values(int n) {
    std::string s = "{\"type\":\"ping\",\"x\":[0";
    for (int i = 1; i < n; ++i) s += ",0";
    return s + "]}";
}

inline const std::vector<Bad>& bad_cases() {
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

} // namespace roost_test
