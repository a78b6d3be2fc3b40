// Tests for broker/stored_msg.cpp: what encode_msg() writes is taken, and
// every way a record from disk can differ from that is refused. Found by
// fuzz_journal: records whose checksum held were restored and served
// verbatim whatever they held.
#include "broker/events.h"
#include "broker/json_writer.h"
#include "broker/stored_msg.h"
#include "tests/support/unit.h"

namespace {

std::string encode(std::string_view room, std::uint64_t seq, std::string_view text, std::string_view data,
                   std::string_view cid, std::string_view origin, roost::MsgKind kind = roost::MsgKind::chat) {
    char buf[4096];
    roost::JsonWriter w(buf, sizeof buf);
    roost::encode_msg(w, room, seq, 1700000000000ull, "Ann.b-1_", kind, text, data, cid, origin);
    return std::string(buf, w.size());
}

void what_encode_msg_writes_is_taken(void**) {
    const std::string cases[] = {
        encode("lobby", 1, "hi", {}, {}, {}),
        encode("lobby", 9007199254740991ull, "x", {}, {}, {}),
        encode("@ann+bob", 7, "quote \" backslash \\ tab \t nl \n é 😀 \x01", {}, "c-1", {}),
        encode("lobby", 2, "", R"({"t":21.5,"on":false,"s":"a\"b","n":-1e-3,"z":0})", {}, {}, roost::MsgKind::device),
        encode("lobby", 3, "from afar", {}, {}, "roost-\"other\"", roost::MsgKind::bot),
        encode("lobby", 4, "lost", {}, {}, {}, roost::MsgKind::system),
    };
    for (const std::string& m : cases) {
        const std::string room = m.find("@ann+bob") != std::string::npos ? "@ann+bob" : "lobby";
        const auto seq = std::stoull(m.substr(m.find("\"seq\":") + 6));
        if (!roost::stored_msg_valid(m, room, seq)) fail_msg("refused: %s", m.c_str());
    }
}

void every_difference_is_refused(void**) {
    const std::string good = R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x"})";
    assert_true(roost::stored_msg_valid(good, "lobby", 5));
    assert_false(roost::stored_msg_valid(good, "other", 5));
    assert_false(roost::stored_msg_valid(good, "lobby", 6));
    const char* const refused[] = {
        "",
        "{}",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x")",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x"} )",
        R"( {"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x"})",
        R"({"type":"ack","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":05,"ts":1,"from":"a","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5.0,"ts":1,"from":"a","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":9007199254740992,"from":"a","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":-1,"from":"a","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a b","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"spam","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":5})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"\ud800"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"\udc00\ud800"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"\u0000"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"\x"})",
        "{\"type\":\"msg\",\"room\":\"lobby\",\"seq\":5,\"ts\":1,\"from\":\"a\",\"kind\":\"chat\",\"text\":\"\t\"}",
        "{\"type\":\"msg\",\"room\":\"lobby\",\"seq\":5,\"ts\":1,\"from\":\"a\",\"kind\":\"chat\",\"text\":\"\xc3\"}",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x","data":[1]})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x","data":{"a":{}}})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x","data":{"a b":1}})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x","data":{"a":01}})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x","data":{"a":null}})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x","cid":""})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x","extra":1})",
        R"({"type":"msg","origin":"","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","text":"x"})",
        R"({"type":"msg","room":"lobby","seq":5,"ts":1,"from":"a","kind":"chat","cid":"c","text":"x"})",
    };
    for (const char* m : refused) {
        if (roost::stored_msg_valid(m, "lobby", 5)) fail_msg("taken: %s", m);
    }
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(what_encode_msg_writes_is_taken),
        cmocka_unit_test(every_difference_is_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
