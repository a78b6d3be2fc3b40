// Tests for broker/restore.cpp and the Journal hooks in rooms.cpp: what
// the broker tells its journal, that a journal that cannot write leaves
// every table as it was (disk_full), and rebuilding from restore_*.
#include "broker/broker.h"
#include "broker/json_writer.h"
#include "broker/bots.h"
#include "tests/support/broker_fixture.h"
#include "tests/support/unit.h"

#include <cstddef>
#include <memory>

namespace {

using roost::Broker;
using roost::Errc;

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
    void record_saved(std::uint32_t table, std::uint32_t index, std::string_view bytes) override {
        calls.push_back("bot " + std::to_string(table) + " " + std::to_string(index) + " " +
                        std::to_string(bytes.size()));
    }
    void read_set(std::uint32_t room, std::uint32_t mark, std::string_view nick, std::uint64_t seq) override {
        calls.push_back("read " + std::to_string(room) + " " + std::to_string(mark) + " " + std::string(nick) + " " +
                        std::to_string(seq));
    }
};

roost::CoreLimits two_rooms() {
    roost::CoreLimits l;
    l.max_rooms = 2;
    return l;
}

struct Fixture : roost_test::BrokerFixture {
    FakeJournal journal;
    Fixture() : BrokerFixture(two_rooms(), 3) { broker->set_journal(&journal); }
    roost::SessionId hello(const std::string& nick, const std::string& key) {
        const std::uint8_t addr[16] = {};
        const roost::SessionId s = broker->open_session(addr);
        send(s, R"({"type":"hello","nick":")" + nick + R"(","key":")" + key + "\"}");
        return s;
    }
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
    roost_test::WakeLog t;
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

// Found by fuzz_journal: start-up took any room name and epoch a slot
// header held, and any payload a record held, and served them verbatim
// (an empty room name, epochs with quotes or bytes that are not UTF-8,
// records that are not JSON, seqs past 2^53).
void restore_refuses_what_no_broker_writes(void**) {
    roost::CoreLimits limits;
    roost::FakeClock clock;
    roost::SplitMix random{1};
    roost_test::WakeLog t;
    Broker b(limits, clock, random, t);
    assert_false(b.restore_room(0, "", "abcdefgh"));
    assert_false(b.restore_room(0, "lobby", std::string_view("abc\0efgh", 8)));
    assert_false(b.restore_room(0, "lobby", "abc\"efgh"));
    assert_false(b.restore_room(0, "lobby", "ABCDEFGH")); // base32 is lower case
    assert_false(b.restore_room(0, "lobby", "abcdefg1")); // and has no 1
    assert_true(b.restore_room(0, "lobby", "abcdefg7"));
    // Not JSON (the record cut short): refused (stored_msg_valid's cases: test_stored_msg.cpp).
    const std::string_view cut = R"({"type":"msg","room":"lobby","seq":1,"ts":5,"from":"a","kind":"chat","text":"x")";
    assert_false(b.restore_message(0, roost::HistoryClass::people, 1, roost::EntryMeta{5, 0}, cut));
    // Each took its seq as a lost message: no seq is ever given twice.
    const roost::Room* r = b.find_room("lobby");
    assert_int_equal(r->history->head(), 1);
    const char* data = nullptr;
    std::uint32_t len = 0;
    assert_true(r->history->get(1, data, len));
    assert_non_null(std::strstr(std::string(data, len).c_str(), R"("kind":"system")"));
    const std::string ok = R"({"type":"msg","origin":"o\"x","room":"lobby","seq":2,"ts":5,"from":"a","kind":"chat",)"
                           R"("text":"h\u00e9 \ud83d\ude00","data":{"t":-2.5e3,"on":true,"s":"x"},"cid":"c1"})";
    assert_true(b.restore_message(0, roost::HistoryClass::people, 2, roost::EntryMeta{5, 0}, ok));
    const std::string_view past = R"({"type":"msg","room":"lobby","seq":9007199254740992,"ts":5,"from":"a","kind":"chat","text":"x"})";
    assert_false(b.restore_message(0, roost::HistoryClass::people, std::uint64_t{1} << 53, roost::EntryMeta{5, 0}, past));
    assert_int_equal(r->history->head(), 2);
}

// Found by fuzz_journal: bot records were copied in as bytes, so a record
// whose checksum held could hold a bool of 2, strings without their NUL,
// counts past their arrays and letters outside a-z (undefined shifts,
// over-reads, text that is not UTF-8 in the bots' answers).
void restore_refuses_bot_records_the_bots_cannot_use(void**) {
    roost::CoreLimits limits;
    roost::FakeClock clock;
    roost::SplitMix random{1};
    roost_test::WakeLog t;
    Broker b(limits, clock, random, t);
    assert_true(b.restore_room(0, "lobby", "abcdefgh"));
    auto bytes = [](const auto& rec) { return std::string_view(reinterpret_cast<const char*>(&rec), sizeof rec); };
    const auto rooms = static_cast<std::uint32_t>(roost::RecordTable::rooms);
    roost::RoomBots rb{};
    std::strcpy(rb.room, "lobby");
    rb.hangman.len = 4;
    std::memcpy(rb.hangman.word, "bird", 4);
    std::strcpy(rb.hangman.category, "animals");
    assert_true(b.restore_record(rooms, 0, bytes(rb)));
    roost::RoomBots bad = rb;
    bad.hangman.len = 20; // past word[16]
    assert_false(b.restore_record(rooms, 0, bytes(bad)));
    bad = rb;
    bad.hangman.word[1] = 'I'; // the guessed bits take a-z
    assert_false(b.restore_record(rooms, 0, bytes(bad)));
    bad = rb;
    bad.wordle.players = 17;
    assert_false(b.restore_record(rooms, 0, bytes(bad)));
    bad = rb;
    std::memset(bad.hangman_scores[0].nick, 'x', sizeof bad.hangman_scores[0].nick); // no NUL
    assert_false(b.restore_record(rooms, 0, bytes(bad)));
    std::string raw(bytes(rb));
    raw[offsetof(roost::RoomBots, hangman) + offsetof(roost::HangmanGame, active)] = 2; // a bool of 2
    assert_false(b.restore_record(rooms, 0, raw));
    roost::Reminder rem{};
    rem.used = true;
    std::strcpy(rem.nick, "ann");
    std::strcpy(rem.room, "lobby");
    rem.text_len = 5;
    std::memcpy(rem.text, "water", 5);
    const auto reminders = static_cast<std::uint32_t>(roost::RecordTable::reminders);
    assert_true(b.restore_record(reminders, 0, bytes(rem)));
    rem.text_len = 300; // past text[200]
    assert_false(b.restore_record(reminders, 0, bytes(rem)));
    rem.text_len = 2;
    rem.text[0] = '\xff';
    assert_false(b.restore_record(reminders, 0, bytes(rem)));
    roost::Reminder unused{};
    unused.number = 7; // an unused record is taken only when all zeros
    assert_false(b.restore_record(reminders, 1, bytes(unused)));
    roost::Watch w{};
    w.used = true;
    w.op = static_cast<roost::WatchOp>(9);
    std::strcpy(w.nick, "ann");
    std::strcpy(w.room, "lobby");
    std::strcpy(w.alert_room, "lobby");
    std::strcpy(w.key, "t");
    assert_false(b.restore_record(static_cast<std::uint32_t>(roost::RecordTable::watches), 0, bytes(w)));
    w.op = roost::WatchOp::above;
    assert_true(b.restore_record(static_cast<std::uint32_t>(roost::RecordTable::watches), 0, bytes(w)));
    // Its devices: a named watch follows its own device in the first place only.
    const auto watches = static_cast<std::uint32_t>(roost::RecordTable::watches);
    std::strcpy(w.device, "Kitchen");
    w.devices[0].used = true;
    std::strcpy(w.devices[0].name, "kitchen");
    assert_true(b.restore_record(watches, 0, bytes(w)));
    std::strcpy(w.devices[0].name, "garage");
    assert_false(b.restore_record(watches, 0, bytes(w)));
    std::strcpy(w.devices[0].name, "kitchen");
    w.devices[1] = w.devices[0];
    assert_false(b.restore_record(watches, 0, bytes(w)));
    std::memset(&w.devices[1], 0, sizeof w.devices[1]);
    w.devices[1].last_seen_ms = 5; // an unused place is all zeros
    assert_false(b.restore_record(watches, 0, bytes(w)));
    std::memset(&w.devices[1], 0, sizeof w.devices[1]);
    w.device[0] = '\0';
    std::memset(w.devices[2].name, 'x', sizeof w.devices[2].name); // no NUL
    w.devices[2].used = true;
    assert_false(b.restore_record(watches, 0, bytes(w)));
    std::memset(&w.devices[2], 0, sizeof w.devices[2]);
    std::string wraw(bytes(w));
    wraw[offsetof(roost::Watch, devices) + offsetof(roost::WatchDevice, tripped)] = 2; // a bool that is not one
    assert_false(b.restore_record(watches, 0, wraw));
    assert_true(b.restore_record(watches, 0, bytes(w)));
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(journal_sees_rooms_messages_keys_and_reads),
        cmocka_unit_test(a_full_disk_changes_nothing),
        cmocka_unit_test(restore_rebuilds_and_fills_gaps),
        cmocka_unit_test(restore_refuses_what_no_broker_writes),
        cmocka_unit_test(restore_refuses_bot_records_the_bots_cannot_use),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
