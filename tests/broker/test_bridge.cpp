// Tests for broker/bridge.cpp and the Decoder's bridge decoders: what goes
// out (own messages of bridged rooms, in order, each until it is done),
// what comes in (stored once with its origin; ours and duplicates dropped;
// a new history of an origin accepted again), devices, and bad payloads.
#include "broker/broker.h"
#include "tests/support/broker_fixture.h"
#include "tests/support/recording_journal.h"
#include "tests/support/unit.h"

#include <map>
#include <memory>

namespace {

using roost::Broker;
using roost::Errc;

struct Fixture : roost_test::BrokerFixture {
    roost::Decoder decoder{limits};
    Fixture() : BrokerFixture({}, 5) {}
    void post(const std::string& room, const std::string& text) {
        roost::PostResult r;
        assert_int_equal(static_cast<int>(broker->post(room, "dev", roost::MsgKind::device, text, {}, {}, r)),
                         static_cast<int>(Errc::ok));
    }
    Errc receive(const std::string& room, const std::string& payload, bool& dup) {
        roost::BridgedMsg m;
        roost::DecodeError err;
        const Errc e = decoder.decode_bridged(payload.data(), payload.size(), m, err);
        return e != Errc::ok ? e : broker->bridge_receive(room, m, dup);
    }
};

std::string remote(const std::string& origin, const std::string& epoch, int seq, const std::string& text) {
    return R"({"type":"msg","origin":")" + origin + R"(","oepoch":")" + epoch + R"(","room":"lobby","seq":)" +
           std::to_string(seq) + R"(,"ts":1,"from":"ann","kind":"chat","text":")" + text + "\"}";
}

void own_messages_go_out_in_order_once_done(void**) {
    Fixture f;
    f.post("lobby", "before the bridge"); // held already: not published
    f.broker->bridge_enable("roost-a", {});
    Broker::BridgeOut out;
    assert_false(f.broker->bridge_next(out));
    f.post("lobby", "one");
    f.post("lobby", "two");
    assert_true(f.broker->bridge_next(out));
    assert_int_equal(out.seq, 2);
    const std::string p(out.payload);
    const std::string epoch(f.broker->find_room("lobby")->epoch);
    assert_true(p.rfind(R"({"type":"msg","origin":"roost-a","oepoch":")" + epoch + R"(","room":"lobby","seq":2,)", 0) == 0);
    assert_true(p.find(R"("text":"one")") != std::string::npos);
    // Not done yet (no PUBACK): the same one again.
    assert_true(f.broker->bridge_next(out));
    assert_int_equal(out.seq, 2);
    f.broker->bridge_done(out.ri, out.seq);
    assert_true(f.broker->bridge_next(out));
    assert_int_equal(out.seq, 3);
    f.broker->bridge_done(out.ri, out.seq);
    assert_false(f.broker->bridge_next(out));
    assert_int_equal(f.broker->stats().bridge_published, 2);
}

void only_bridged_rooms_and_never_remote_ones(void**) {
    Fixture f;
    f.broker->bridge_enable("roost-a", {"sensors"});
    f.post("lobby", "not bridged");
    bool dup = false;
    assert_int_equal(static_cast<int>(f.receive("lobby", remote("roost-b", "e1", 1, "x"), dup)),
                     static_cast<int>(Errc::forbidden));
    assert_int_equal(static_cast<int>(f.receive("sensors", remote("roost-b", "e1", 1, "from b"), dup)),
                     static_cast<int>(Errc::ok));
    Broker::BridgeOut out;
    assert_false(f.broker->bridge_next(out)); // b's message is not published back
    f.post("sensors", "mine");
    assert_true(f.broker->bridge_next(out));
    assert_string_equal(std::string(out.room).c_str(), "sensors");
    assert_true(std::string(out.payload).find("mine") != std::string::npos);
}

void incoming_is_stored_once_with_its_origin(void**) {
    Fixture f;
    f.broker->bridge_enable("roost-a", {});
    bool dup = false;
    assert_int_equal(static_cast<int>(f.receive("lobby", remote("roost-b", "e1", 1, "hi"), dup)), 0);
    assert_false(dup);
    const std::string stored = f.last("lobby");
    assert_true(stored.rfind(R"({"type":"msg","origin":"roost-b","room":"lobby","seq":1,)", 0) == 0);
    assert_true(stored.find(R"("from":"ann")") != std::string::npos);
    // The same again (a resend), and ours coming back: dropped.
    assert_int_equal(static_cast<int>(f.receive("lobby", remote("roost-b", "e1", 1, "hi"), dup)), 0);
    assert_true(dup);
    assert_int_equal(static_cast<int>(f.receive("lobby", remote("roost-a", "zz", 9, "mine"), dup)), 0);
    assert_true(dup);
    assert_int_equal(f.broker->find_room("lobby")->history->head(), 1);
    // A new history of roost-b (it restarted without persistence) starts over.
    assert_int_equal(static_cast<int>(f.receive("lobby", remote("roost-b", "e2", 1, "again"), dup)), 0);
    assert_false(dup);
    assert_int_equal(f.broker->find_room("lobby")->history->head(), 2);
    assert_int_equal(f.broker->stats().bridge_duplicates, 1);
    // The ring marks what came from elsewhere (never published back).
    const roost::EntryMeta* meta = f.broker->find_room("lobby")->history->meta(1);
    assert_true(meta != nullptr && meta->remote);
}

void bad_bridged_payloads(void**) {
    Fixture f;
    f.broker->bridge_enable("roost-a", {});
    const std::string cases[] = {
        "{not json",
        R"({"type":"say","origin":"b","oepoch":"e","seq":1,"from":"ann","kind":"chat","text":"x"})",
        R"({"type":"msg","oepoch":"e","seq":1,"from":"ann","kind":"chat","text":"x"})",
        R"({"type":"msg","origin":"b","oepoch":"e","seq":0,"from":"ann","kind":"chat","text":"x"})",
        R"({"type":"msg","origin":"b","oepoch":"e","seq":1,"from":"bad nick","kind":"chat","text":"x"})",
        R"({"type":"msg","origin":"b","oepoch":"e","seq":1,"from":"ann","kind":"shout","text":"x"})",
        R"({"type":"msg","origin":"b","oepoch":"e","seq":1,"from":"ann","kind":"chat","text":""})",
        "{\"type\":\"msg\",\"origin\":\"b\",\"oepoch\":\"e\",\"seq\":1,\"from\":\"ann\",\"kind\":\"chat\",\"text\":\"\xff\"}",
    };
    for (const std::string& c : cases) {
        bool dup = false;
        if (f.receive("lobby", c, dup) == Errc::ok) fail_msg("accepted: %s", c.c_str());
    }
    assert_null(f.broker->find_room("lobby"));
}

void devices(void**) {
    Fixture f;
    f.broker->bridge_enable("roost-a", {});
    roost::Command c;
    roost::DecodeError err;
    const std::string readings = R"( {"temp":21.5,"door":"open"})";
    assert_int_equal(static_cast<int>(f.decoder.decode_device(readings.data(), readings.size(), c, err)), 0);
    assert_int_equal(static_cast<int>(f.broker->bridge_device("sensors", "kitchen", c)), 0);
    std::string m = f.last("sensors");
    assert_true(m.find(R"("origin":"mqtt")") != std::string::npos);
    assert_true(m.find(R"("from":"kitchen","kind":"device","text":"","data":{"temp":21.5,"door":"open"})") != std::string::npos);
    const std::string text = "motion";
    assert_int_equal(static_cast<int>(f.decoder.decode_device(text.data(), text.size(), c, err)), 0);
    assert_int_equal(static_cast<int>(f.broker->bridge_device("sensors", "porch", c)), 0);
    Broker::BridgeOut out;
    assert_false(f.broker->bridge_next(out)); // every Roost gets a device's message from the device itself
    for (const std::string& bad : {std::string("\xff"), std::string(""), std::string("{\"a\":[1]}"),
                                   std::string(f.limits.max_text + 1, 'x'), std::string("a\0b", 3)}) {
        if (f.decoder.decode_device(bad.data(), bad.size(), c, err) == Errc::ok) fail_msg("accepted a bad payload");
    }
    assert_int_equal(static_cast<int>(f.broker->bridge_device("sensors", "bad name", c)),
                     static_cast<int>(Errc::bad_request));
}


// After a restart the bridge goes on where the link had got to: what was
// stored but not yet published is published.
void the_cursor_survives_a_restart(void**) {
    Fixture a;
    roost_test::RecordingJournal rec;
    a.broker->set_journal(&rec);
    a.broker->bridge_enable("roost-a", {});
    for (const char* t : {"one", "two", "three"}) a.post("lobby", t);
    Broker::BridgeOut out;
    assert_true(a.broker->bridge_next(out));
    a.broker->bridge_done(out.ri, out.seq); // "one" went out; the link drops before "two"
    Fixture b;
    const roost::Room* r = a.broker->find_room("lobby");
    assert_true(b.broker->restore_room(0, "lobby", std::string_view(r->epoch, roost::kEpochLen)));
    for (std::uint64_t s = 1; s <= 3; ++s) {
        const char* d = nullptr;
        std::uint32_t n = 0;
        assert_true(r->history->get(s, d, n));
        assert_true(b.broker->restore_message(0, roost::HistoryClass::people, s, *r->history->meta(s), std::string_view(d, n)));
    }
    assert_true(b.broker->restore_record(3, 0, rec.bots.at({3, 0})));
    b.broker->bridge_enable("roost-a", {});
    assert_true(b.broker->bridge_next(out));
    assert_int_equal(out.seq, 2);
    assert_true(std::string(out.payload).find("\"two\"") != std::string::npos);
    // A mark from another history of the room is not used.
    Fixture c;
    assert_true(c.broker->restore_room(0, "lobby", "otherepo"));
    assert_true(c.broker->restore_record(3, 0, rec.bots.at({3, 0})));
    c.broker->bridge_enable("roost-a", {});
    assert_false(c.broker->bridge_next(out));
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_messages_go_out_in_order_once_done),
        cmocka_unit_test(only_bridged_rooms_and_never_remote_ones),
        cmocka_unit_test(incoming_is_stored_once_with_its_origin),
        cmocka_unit_test(bad_bridged_payloads),
        cmocka_unit_test(devices),
        cmocka_unit_test(the_cursor_survives_a_restart),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
