// Tests for broker/restore.cpp and the Journal hooks in rooms.cpp: what
// the broker tells its journal, that a journal that cannot write leaves
// every table as it was (disk_full), and rebuilding from restore_*.
#include "broker/broker.h"
#include "broker/json_writer.h"
#include "tests/support/unit.h"

#include <memory>

namespace {

using roost::Broker;
using roost::Errc;

struct NoTransport final : roost::Transport {
    void wake(roost::SessionId) override {}
};

// Records every call; fails the next ones while `full`.
struct FakeJournal final : roost::Journal {
    bool full = false;
    std::vector<std::string> calls;
    Errc room_started(std::uint32_t room, std::string_view name, std::string_view epoch) override {
        calls.push_back("room " + std::to_string(room) + " " + std::string(name) + " " + std::string(epoch));
        return full ? Errc::disk_full : Errc::ok;
    }
    Errc appended(std::uint32_t room, roost::HistoryClass, std::uint64_t seq, const roost::EntryMeta&,
                  std::string_view json) override {
        calls.push_back("msg " + std::to_string(room) + " " + std::to_string(seq) + " " + std::string(json));
        return full ? Errc::disk_full : Errc::ok;
    }
    void key_set(std::uint32_t nick, std::string_view display, std::string_view key) override {
        calls.push_back("key " + std::to_string(nick) + " " + std::string(display) + " " + std::string(key));
    }
    void bot_saved(std::uint32_t table, std::uint32_t index, std::string_view bytes) override {
        calls.push_back("bot " + std::to_string(table) + " " + std::to_string(index) + " " +
                        std::to_string(bytes.size()));
    }
    void read_set(std::uint32_t room, std::uint32_t mark, std::string_view nick, std::uint64_t seq) override {
        calls.push_back("read " + std::to_string(room) + " " + std::to_string(mark) + " " + std::string(nick) + " " +
                        std::to_string(seq));
    }
};

struct Fixture {
    roost::CoreLimits limits;
    roost::FakeClock clock;
    roost::SplitMix random{3};
    NoTransport transport;
    FakeJournal journal;
    std::unique_ptr<Broker> broker;
    Fixture() {
        limits.max_rooms = 2;
        broker = std::make_unique<Broker>(limits, clock, random, transport);
        broker->set_journal(&journal);
    }
    roost::SessionId hello(const std::string& nick, const std::string& key) {
        const std::uint8_t addr[16] = {};
        const roost::SessionId s = broker->open_session(addr);
        send(s, R"({"type":"hello","nick":")" + nick + R"(","key":")" + key + "\"}");
        return s;
    }
    void send(roost::SessionId s, const std::string& f) { broker->on_frame(s, f.data(), f.size()); }
    std::string drain(roost::SessionId s) {
        std::string all;
        roost::Frame f;
        while (broker->next_frame(s, f)) all.append(f.data, f.len);
        return all;
    }
};

void journal_sees_rooms_messages_keys_and_reads(void**) {
    Fixture x;
    roost::PostResult r;
    assert_int_equal(static_cast<int>(x.broker->post("lobby", "dev", roost::MsgKind::device, "hi", {}, {}, r)),
                     static_cast<int>(Errc::ok));
    assert_int_equal(x.journal.calls.size(), 2);
    assert_string_equal(x.journal.calls[0].c_str(),
                        ("room 0 lobby " + std::string(x.broker->find_room("lobby")->epoch)).c_str());
    const char* data = nullptr;
    std::uint32_t len = 0;
    assert_true(x.broker->find_room("lobby")->history->get(1, data, len));
    assert_string_equal(x.journal.calls[1].c_str(), ("msg 0 1 " + std::string(data, len)).c_str());
    const roost::SessionId s = x.hello("Ann", "k-0123456789abcdef");
    assert_string_equal(x.journal.calls[2].c_str(), "key 0 Ann k-0123456789abcdef");
    x.send(s, R"({"type":"join","room":"lobby"})");
    x.send(s, R"({"type":"read","room":"lobby","seq":1})");
    assert_string_equal(x.journal.calls.back().c_str(), "read 0 0 Ann 1");
}

// disk_full: the post is refused, nothing is stored, nobody is told of a
// message; the room a post would have created does not appear.
void a_full_disk_changes_nothing(void**) {
    Fixture x;
    const roost::SessionId s = x.hello("ann", "k-0123456789abcdef");
    x.send(s, R"({"type":"join","room":"lobby"})");
    x.send(s, R"({"type":"say","room":"lobby","text":"one","cid":"c1"})");
    x.drain(s);
    x.journal.full = true;
    x.send(s, R"({"type":"say","room":"lobby","text":"two","cid":"c2"})");
    const std::string out = x.drain(s);
    assert_non_null(std::strstr(out.c_str(), R"("code":"server_busy")"));
    assert_non_null(std::strstr(out.c_str(), R"("ref":"c2")"));
    assert_null(std::strstr(out.c_str(), "\"two\""));
    assert_int_equal(x.broker->find_room("lobby")->history->head(), 1);
    roost::PostResult r;
    assert_int_equal(static_cast<int>(x.broker->post("lobby", "dev", roost::MsgKind::device, "x", {}, {}, r)),
                     static_cast<int>(Errc::disk_full));
    assert_int_equal(roost::errc_http_status(Errc::disk_full), 507);
    assert_int_equal(static_cast<int>(x.broker->post("newroom", "dev", roost::MsgKind::device, "x", {}, {}, r)),
                     static_cast<int>(Errc::disk_full));
    assert_null(x.broker->find_room("newroom"));
    assert_int_equal(x.broker->room_count(), 1);
    assert_int_equal(x.broker->stats().disk_full, 3);
    // Space is back: the retry of c2 is stored once.
    x.journal.full = false;
    x.send(s, R"({"type":"say","room":"lobby","text":"two","cid":"c2"})");
    assert_non_null(std::strstr(x.drain(s).c_str(), R"("type":"ack","cid":"c2","room":"lobby","seq":2)"));
}

void restore_rebuilds_and_fills_gaps(void**) {
    roost::CoreLimits limits;
    roost::FakeClock clock;
    roost::SplitMix random{1};
    NoTransport t;
    Broker b(limits, clock, random, t);
    assert_true(b.restore_room(1, "lobby", "abcdefgh"));
    assert_false(b.restore_room(2, "lobby", "abcdefgh")); // a duplicate name
    assert_false(b.restore_room(3, "Bad Name", "abcdefgh"));
    assert_false(b.restore_room(3, "other", "short"));
    assert_false(b.restore_room(limits.max_rooms, "other", "abcdefgh"));
    const std::string m10 = R"({"type":"msg","room":"lobby","seq":10,"ts":5,"from":"a","kind":"chat","text":"ten"})";
    const std::string m13 = R"({"type":"msg","room":"lobby","seq":13,"ts":6,"from":"a","kind":"chat","text":"13"})";
    assert_true(b.restore_message(1, roost::HistoryClass::people, 10, roost::EntryMeta{5, 0}, m10));
    assert_true(b.restore_message(1, roost::HistoryClass::people, 13, roost::EntryMeta{6, 0}, m13));
    assert_false(b.restore_message(1, roost::HistoryClass::people, 12, roost::EntryMeta{6, 0}, m13)); // seqs ascend
    const roost::Room* r = b.find_room("lobby");
    assert_string_equal(r->epoch, "abcdefgh");
    assert_int_equal(r->history->oldest(), 10);
    assert_int_equal(r->history->head(), 13);
    const char* data = nullptr;
    std::uint32_t len = 0;
    assert_true(r->history->get(11, data, len));
    const std::string lost(data, len);
    assert_non_null(std::strstr(lost.c_str(), R"("seq":11)"));
    assert_non_null(std::strstr(lost.c_str(), R"("kind":"system")"));
    assert_true(r->history->get(13, data, len));
    assert_string_equal(std::string(data, len).c_str(), m13.c_str());
    // A gap wider than the ring starts the ring afresh.
    const std::string far = R"({"type":"msg","room":"lobby","seq":9999,"ts":7,"from":"a","kind":"chat","text":"far"})";
    assert_true(b.restore_message(1, roost::HistoryClass::people, 9999, roost::EntryMeta{7, 0}, far));
    assert_int_equal(r->history->oldest(), 9999);
    assert_true(b.restore_key(4, "Ann", "k-0123456789abcdef"));
    assert_false(b.restore_key(5, "ANN", "k-other-0123456789")); // one nick, one entry
    assert_false(b.restore_key(6, "bad nick", "k-0123456789abcdef"));
    assert_true(b.restore_read(1, 0, "Ann", 9999));
    assert_false(b.restore_read(1, 1, "Ann", 10000)); // past head
    assert_false(b.restore_read(0, 0, "Ann", 1));     // no room there
    assert_int_equal(r->reads[0].seq, 9999);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(journal_sees_rooms_messages_keys_and_reads),
        cmocka_unit_test(a_full_disk_changes_nothing),
        cmocka_unit_test(restore_rebuilds_and_fills_gaps),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
