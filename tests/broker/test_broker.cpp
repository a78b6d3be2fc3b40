// Tests for broker/broker.cpp, rooms.cpp and commands.cpp: the chat rules
// of the contract (hello, nick keys, rooms, errors, tokens, rate limits,
// read receipts, direct messages, full tables, commands, posts, timers),
// driven through on_frame()/next_frame() with a fake clock.
#include "broker/broker.h"

#include "tests/support/chat_harness.h"

namespace {

using roost::Broker;
using roost::SessionId;
using roost_test::count;
using roost_test::error_code;
using roost_test::Event;
using roost_test::find;
using roost_test::flag;
using roost_test::Harness;
using roost_test::num;
using roost_test::str;

void hello_must_come_first_and_welcome_answers(void**) {
    Harness h;
    SessionId s = h.open();
    h.send(s, "{\"type\":\"join\",\"room\":\"lab\"}");
    auto ev = h.drain(s);
    assert_string_equal(error_code(ev).c_str(), "bad_request");
    h.send(s, "{\"type\":\"hello\",\"nick\":\"Ann\"}");
    ev = h.drain(s);
    const Event* w = find(ev, "welcome");
    assert_non_null(w);
    assert_string_equal(str(*w, "nick").c_str(), "Ann");
    cJSON* limits = cJSON_GetObjectItemCaseSensitive(w->obj, "limits");
    for (const char* k : {"max_text", "max_frame", "max_body", "ring", "backlog", "max_rooms"}) {
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(limits, k)));
    }
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(w->obj, "rooms")));
    h.send(s, "{\"type\":\"hello\",\"nick\":\"Ann\"}");
    assert_string_equal(error_code(h.drain(s)).c_str(), "bad_request");
}

void nick_keys_own_nicks(void**) {
    Harness h;
    SessionId a = h.hello("ann", ",\"key\":\"s3cret\"");
    assert_non_null(find(h.drain(a), "welcome"));
    SessionId b = h.hello("ANN"); // case-insensitive, no key
    assert_string_equal(error_code(h.drain(b)).c_str(), "nick_taken");
    SessionId c = h.hello("Ann", ",\"key\":\"wrong\"");
    assert_string_equal(error_code(h.drain(c)).c_str(), "nick_taken");
    SessionId d = h.hello("ann", ",\"key\":\"s3cret\""); // same key: a second connection
    assert_non_null(find(h.drain(d), "welcome"));
    // The key stays with the nick after every connection is gone.
    h.broker->close_session(a);
    h.broker->close_session(d);
    SessionId e = h.hello("ann");
    assert_string_equal(error_code(h.drain(e)).c_str(), "nick_taken");
}

void join_say_ack_msg_and_presence(void**) {
    Harness h;
    SessionId a = h.hello("ann"), b = h.hello("bob");
    h.drain(a), h.drain(b);
    h.send(a, "{\"type\":\"join\",\"room\":\"Lab\"}");
    auto ev = h.drain(a);
    const Event* j = find(ev, "joined");
    assert_non_null(j);
    assert_string_equal(str(*j, "room").c_str(), "lab");
    assert_int_equal(num(*j, "head"), 0);
    assert_int_equal(num(*j, "oldest"), 1);
    assert_false(flag(*j, "recovered"));
    assert_int_equal(str(*j, "epoch").size(), roost::kEpochLen);
    h.send(b, "{\"type\":\"join\",\"room\":\"lab\"}");
    ev = h.drain(b);
    j = find(ev, "joined");
    cJSON* members = cJSON_GetObjectItemCaseSensitive(j->obj, "members");
    assert_int_equal(cJSON_GetArraySize(members), 2);
    ev = h.drain(a);
    const Event* p = find(ev, "presence");
    assert_non_null(p);
    assert_string_equal(str(*p, "nick").c_str(), "bob");
    assert_string_equal(str(*p, "state").c_str(), "join");

    h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"hi <b>\",\"cid\":\"c1\"}");
    ev = h.drain(a);
    const Event* ack = find(ev, "ack");
    assert_non_null(ack);
    assert_string_equal(str(*ack, "cid").c_str(), "c1");
    assert_int_equal(num(*ack, "seq"), 1);
    const Event* m = find(ev, "msg"); // the sender gets the msg too
    assert_non_null(m);
    ev = h.drain(b);
    m = find(ev, "msg");
    assert_non_null(m);
    assert_string_equal(str(*m, "text").c_str(), "hi <b>");
    assert_string_equal(str(*m, "from").c_str(), "ann");
    assert_string_equal(str(*m, "kind").c_str(), "chat");
    assert_string_equal(str(*m, "cid").c_str(), "c1");
    assert_int_equal(num(*m, "ts"), static_cast<double>(h.clock.now_ms()));

    // A retry with the same cid: the first ack again, nothing stored.
    h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"hi <b>\",\"cid\":\"c1\"}");
    ev = h.drain(a);
    ack = find(ev, "ack");
    assert_int_equal(num(*ack, "seq"), 1);
    assert_null(find(ev, "msg"));
    assert_int_equal(h.broker->find_room("lab")->history->head(), 1);
    assert_int_equal(count(h.drain(b), "msg"), 0);
}

void one_member_per_nick_across_connections(void**) {
    Harness h;
    SessionId a1 = h.hello("ann"), a2 = h.hello("ann"), b = h.hello("bob");
    h.send(b, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.drain(b);
    h.send(a1, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.send(a2, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.drain(a1), h.drain(a2);
    auto ev = h.drain(b);
    assert_int_equal(count(ev, "presence"), 1); // ann joined once
    assert_int_equal(h.broker->find_room("lab")->members, 2);
    h.broker->close_session(a1);
    assert_int_equal(count(h.drain(b), "presence"), 0); // ann is still here (a2)
    h.send(a2, "{\"type\":\"leave\",\"room\":\"lab\"}");
    assert_non_null(find(h.drain(a2), "left"));
    ev = h.drain(b);
    const Event* p = find(ev, "presence");
    assert_non_null(p);
    assert_string_equal(str(*p, "state").c_str(), "leave");
    h.send(a2, "{\"type\":\"leave\",\"room\":\"lab\"}");
    assert_string_equal(error_code(h.drain(a2)).c_str(), "not_joined");
}

void errors_are_answered_and_never_close_once(void**) {
    Harness h;
    SessionId a = h.hello("ann");
    h.drain(a);
    struct Case {
        const char* frame;
        const char* code;
    } cases[] = {
        {"{\"type\":\"say\",\"room\":\"lab\",\"text\":\"x\"}", "not_joined"},
        {"{\"type\":\"typing\",\"room\":\"lab\",\"on\":true}", "not_joined"},
        {"{\"type\":\"read\",\"room\":\"nope\",\"seq\":1}", "no_such_room"},
        {"{\"type\":\"fly\"}", "unknown_type"},
        {"nope", "bad_json"},
        {"[1]", "bad_request"},
        {"{\"type\":\"join\",\"room\":\"@bob+carl\"}", "forbidden"},
        {"{\"type\":\"dm\",\"to\":\"ann\",\"text\":\"me\"}", "bad_request"},
    };
    for (const Case& c : cases) {
        h.send(a, c.frame);
        auto ev = h.drain(a);
        if (error_code(ev) != c.code) fail_msg("%s: got '%s', want %s", c.frame, error_code(ev).c_str(), c.code);
        assert_int_equal(h.broker->close_code(a), 0);
    }
    // The ref is the cid when there is one.
    h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"x\",\"cid\":\"k9\"}");
    auto ev = h.drain(a);
    assert_string_equal(str(*find(ev, "error"), "ref").c_str(), "k9");
}

void repeated_errors_close_1008(void**) {
    Harness h;
    SessionId a = h.hello("ann");
    h.drain(a);
    for (std::uint32_t i = 0; i <= h.limits.error_limit; ++i) h.send(a, "nope");
    auto ev = h.drain(a);
    const Event* bye = find(ev, "bye");
    assert_non_null(bye);
    assert_int_equal(num(*bye, "code"), 1008);
    assert_int_equal(h.broker->close_code(a), 1008);
}

// A hello without the right token: the client reads `unauthorized`, then
// the bye, and the session closes with 1008. With the token: only the rooms
// it grants, read ("lab", "sensors") or write ("sensors").
void tokens_gate_hello_join_and_say(void**) {
    struct OnlySecret : roost::Authorizer {
        std::int32_t grant(std::string_view token) override { return token == "secret" ? 7 : denied; }
        bool allows(std::int32_t grant, std::string_view room, bool write) override {
            assert_int_equal(grant, 7);
            return room == "sensors" || (!write && room == "lab");
        }
    } auth;
    Harness h;
    h.broker->set_authorizer(&auth);
    SessionId a = h.open();
    h.send(a, "{\"type\":\"hello\",\"nick\":\"ann\"}");
    auto ev = h.drain(a);
    assert_int_equal(ev.size(), 2);
    assert_string_equal(ev[0].type.c_str(), "error");
    assert_string_equal(error_code(ev).c_str(), "unauthorized");
    assert_string_equal(ev[1].type.c_str(), "bye");
    assert_int_equal(num(ev[1], "code"), 1008);
    assert_int_equal(h.broker->close_code(a), 1008);
    SessionId b = h.open();
    h.send(b, "{\"type\":\"hello\",\"nick\":\"bob\",\"token\":\"secret\"}");
    assert_non_null(find(h.drain(b), "welcome"));
    h.send(b, "{\"type\":\"join\",\"room\":\"attic\"}");
    assert_string_equal(error_code(h.drain(b)).c_str(), "forbidden");
    h.send(b, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.send(b, "{\"type\":\"join\",\"room\":\"sensors\"}");
    ev = h.drain(b);
    assert_int_equal(count(ev, "joined"), 2);
    h.send(b, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"x\"}");
    ev = h.drain(b);
    assert_string_equal(error_code(ev).c_str(), "forbidden");
    assert_int_equal(count(ev, "msg"), 0);
    h.send(b, "{\"type\":\"say\",\"room\":\"sensors\",\"text\":\"21.5\"}");
    assert_non_null(find(h.drain(b), "ack"));
    assert_int_equal(h.broker->find_room("lab")->history->head(), 0);
    assert_int_equal(h.broker->close_code(b), 0);
}

void rate_limits(void**) {
    Harness h;
    SessionId a = h.hello("ann"), b = h.hello("bob");
    h.send(a, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.send(b, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.drain(a), h.drain(b);
    for (std::uint32_t i = 0; i < h.limits.msg_burst + 1; ++i) {
        h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"x\"}");
    }
    auto ev = h.drain(a);
    assert_int_equal(count(ev, "ack"), h.limits.msg_burst);
    assert_string_equal(error_code(ev).c_str(), "rate_limited");
    h.clock.advance(1000); // refills msg_rate tokens
    h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"x\"}");
    assert_int_equal(count(h.drain(a), "ack"), 1);
    // Typing: relayed to the others, dropped silently beyond the rate.
    h.drain(b);
    for (int i = 0; i < 10; ++i) h.send(a, "{\"type\":\"typing\",\"room\":\"lab\",\"on\":true}");
    ev = h.drain(a);
    assert_int_equal(count(ev, "typing"), 0); // not echoed to the typist
    assert_int_equal(count(ev, "error"), 0);
    ev = h.drain(b);
    assert_int_equal(count(ev, "typing"), h.limits.typing_burst);
    assert_string_equal(str(*find(ev, "typing"), "nick").c_str(), "ann");
}

void read_receipts_keep_the_largest(void**) {
    Harness h;
    SessionId a = h.hello("ann"), b = h.hello("bob");
    h.send(a, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.send(b, "{\"type\":\"join\",\"room\":\"lab\"}");
    for (int i = 0; i < 3; ++i) h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"x\"}");
    h.drain(a), h.drain(b);
    h.send(b, "{\"type\":\"read\",\"room\":\"lab\",\"seq\":2}");
    auto ev = h.drain(a);
    const Event* r = find(ev, "read");
    assert_non_null(r);
    assert_string_equal(str(*r, "nick").c_str(), "bob");
    assert_int_equal(num(*r, "seq"), 2);
    h.send(b, "{\"type\":\"read\",\"room\":\"lab\",\"seq\":1}"); // lower: kept at 2, not relayed
    assert_int_equal(count(h.drain(a), "read"), 0);
    h.send(b, "{\"type\":\"read\",\"room\":\"lab\",\"seq\":9}");
    assert_string_equal(error_code(h.drain(b)).c_str(), "bad_request");
    SessionId c = h.hello("carl");
    h.send(c, "{\"type\":\"join\",\"room\":\"lab\"}");
    ev = h.drain(c);
    cJSON* reads = cJSON_GetObjectItemCaseSensitive(find(ev, "joined")->obj, "reads");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(reads, "bob")->valuedouble, 2);
}

void direct_messages_reach_only_their_parties(void**) {
    Harness h;
    SessionId a = h.hello("Ann"), b = h.hello("bob"), c = h.hello("carl");
    h.drain(a), h.drain(b), h.drain(c);
    h.send(a, "{\"type\":\"dm\",\"to\":\"Bob\",\"text\":\"psst\",\"cid\":\"d1\"}");
    auto ev = h.drain(a);
    const Event* j = find(ev, "joined");
    assert_non_null(j);
    assert_string_equal(str(*j, "room").c_str(), "@ann+bob");
    assert_string_equal(str(*find(ev, "ack"), "room").c_str(), "@ann+bob");
    ev = h.drain(b);
    assert_non_null(find(ev, "joined"));
    const Event* m = find(ev, "msg");
    assert_non_null(m);
    assert_string_equal(str(*m, "text").c_str(), "psst");
    assert_int_equal(count(h.drain(c), "msg"), 0);
    h.send(c, "{\"type\":\"join\",\"room\":\"@ann+bob\"}");
    assert_string_equal(error_code(h.drain(c)).c_str(), "forbidden");
    // The DM room is not listed in welcome, and a party coming online later joins it.
    SessionId b2 = h.hello("bob");
    ev = h.drain(b2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(find(ev, "welcome")->obj, "rooms")), 0);
    assert_non_null(find(ev, "joined"));
    assert_int_equal(count(ev, "msg"), 1);
    roost::PostResult r;
    assert_int_equal(static_cast<int>(h.broker->post("@ann+bob", "dev", roost::MsgKind::device, "x", {}, {}, r)),
                     static_cast<int>(roost::Errc::forbidden));
}

void rooms_table_full_and_recycling(void**) {
    roost::CoreLimits l;
    l.max_rooms = 2;
    Harness h(l);
    SessionId a = h.hello("ann");
    h.drain(a);
    h.send(a, "{\"type\":\"join\",\"room\":\"one\"}");
    h.send(a, "{\"type\":\"join\",\"room\":\"two\"}");
    h.send(a, "{\"type\":\"join\",\"room\":\"three\"}");
    auto ev = h.drain(a);
    assert_int_equal(count(ev, "joined"), 2);
    assert_string_equal(error_code(ev).c_str(), "too_many_rooms");
    // An empty room is recycled: the idle one ("one") goes, with a new epoch.
    h.send(a, "{\"type\":\"leave\",\"room\":\"one\"}");
    h.clock.advance(10);
    h.send(a, "{\"type\":\"join\",\"room\":\"three\"}");
    ev = h.drain(a);
    assert_non_null(find(ev, "joined"));
    assert_null(h.broker->find_room("one"));
    assert_non_null(h.broker->find_room("three"));
    assert_int_equal(h.broker->stats().rooms_recycled, 1);
}

void session_table_full_is_refused(void**) {
    roost::CoreLimits l;
    l.max_sessions = 3;
    Harness h(l);
    for (int i = 0; i < 3; ++i) assert_int_not_equal(h.open(), 0);
    assert_int_equal(h.open(), 0);
}

void commands_help_me_nick(void**) {
    Harness h;
    SessionId a = h.hello("ann"), b = h.hello("bob");
    h.send(a, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.send(b, "{\"type\":\"join\",\"room\":\"lab\"}");
    h.drain(a), h.drain(b);
    h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"/help\",\"cid\":\"h\"}");
    auto ev = h.drain(b);
    const Event* m = find(ev, "msg");
    assert_non_null(m);
    assert_string_equal(str(*m, "kind").c_str(), "bot");
    assert_string_equal(str(*m, "from").c_str(), "roost");
    for (const char* c : {"/help", "/me", "/nick"}) assert_non_null(std::strstr(str(*m, "text").c_str(), c));
    assert_non_null(find(h.drain(a), "ack"));
    h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"/me waves\"}");
    ev = h.drain(b);
    assert_string_equal(str(*find(ev, "msg"), "text").c_str(), "* ann waves");
    h.send(a, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"/nick annie\"}");
    ev = h.drain(b);
    assert_non_null(find(ev, "presence", 0));
    assert_non_null(find(ev, "presence", 1));
    assert_non_null(std::strstr(str(*find(ev, "msg"), "text").c_str(), "ann is now known as annie"));
    h.send(b, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"/nick annie\"}");
    assert_string_equal(error_code(h.drain(b)).c_str(), "nick_taken");
    h.send(b, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"/fly\"}");
    assert_string_equal(error_code(h.drain(b)).c_str(), "bad_request");
    h.send(b, "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"/nick bad name!\"}");
    assert_string_equal(error_code(h.drain(b)).c_str(), "bad_request");
}

void post_api_with_retries(void**) {
    Harness h;
    roost::PostResult r1, r2;
    assert_int_equal(static_cast<int>(h.broker->post("sensors", "probe", roost::MsgKind::device, "",
                                                      "{\"temp\":21.5}", "k1", r1)),
                     0);
    assert_int_equal(r1.seq, 1);
    assert_false(r1.duplicate);
    h.clock.advance(5);
    assert_int_equal(static_cast<int>(h.broker->post("sensors", "probe", roost::MsgKind::device, "",
                                                      "{\"temp\":21.5}", "k1", r2)),
                     0);
    assert_true(r2.duplicate);
    assert_int_equal(r2.seq, 1);
    assert_int_equal(r2.ts, r1.ts);
    SessionId a = h.hello("ann");
    h.send(a, "{\"type\":\"join\",\"room\":\"sensors\"}");
    auto ev = h.drain(a);
    const Event* m = find(ev, "msg");
    assert_non_null(m);
    assert_string_equal(str(*m, "kind").c_str(), "device");
    cJSON* data = cJSON_GetObjectItemCaseSensitive(m->obj, "data");
    assert_true(cJSON_GetObjectItemCaseSensitive(data, "temp")->valuedouble == 21.5);
}

std::vector<std::uint64_t> g_fired;
void record_timer(roost::Broker&, std::uint64_t arg) { g_fired.push_back(arg); }

void timers_fire_in_order_from_tick(void**) {
    roost::CoreLimits l;
    l.max_timers = 3;
    Harness h(l);
    g_fired.clear();
    h.broker->set_timer_handler(2, record_timer);
    assert_int_not_equal(h.broker->add_timer(500, 2, 7), 0);
    const std::uint32_t gone = h.broker->add_timer(100, 2, 8);
    assert_int_not_equal(h.broker->add_timer(200, 2, 9), 0);
    assert_int_equal(h.broker->add_timer(1, 2, 10), 0); // full: the caller answers server_busy
    assert_int_equal(h.broker->add_timer(1, roost::Broker::kTimerKinds, 1), 0);
    assert_true(h.broker->cancel_timer(gone));
    assert_int_equal(h.broker->next_timer_due(), h.clock.now_ms() + 200);
    h.clock.advance(199);
    h.broker->tick();
    assert_true(g_fired.empty());
    h.clock.advance(400);
    h.broker->tick();
    assert_int_equal(g_fired.size(), 2);
    assert_int_equal(g_fired[0], 9);
    assert_int_equal(g_fired[1], 7);
    assert_int_equal(h.broker->next_timer_due(), UINT64_MAX);
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_must_come_first_and_welcome_answers),
        cmocka_unit_test(nick_keys_own_nicks),
        cmocka_unit_test(join_say_ack_msg_and_presence),
        cmocka_unit_test(one_member_per_nick_across_connections),
        cmocka_unit_test(errors_are_answered_and_never_close_once),
        cmocka_unit_test(repeated_errors_close_1008),
        cmocka_unit_test(rate_limits),
        cmocka_unit_test(read_receipts_keep_the_largest),
        cmocka_unit_test(direct_messages_reach_only_their_parties),
        cmocka_unit_test(rooms_table_full_and_recycling),
        cmocka_unit_test(session_table_full_is_refused),
        cmocka_unit_test(commands_help_me_nick),
        cmocka_unit_test(post_api_with_retries),
        cmocka_unit_test(tokens_gate_hello_join_and_say),
        cmocka_unit_test(timers_fire_in_order_from_tick),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
