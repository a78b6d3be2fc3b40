// Tests for /watch (broker/watch.cpp): every state per (watch, device),
// driven through a real Broker and its device store with the fake clock:
// devices crossing and coming back on their own, a watch naming one
// device, silence per device, hysteresis and the alert gap per device, the
// alerts' data, states kept across a restart (the journal's records into a
// second broker), a device the store forgot (a new history, a slot given
// to another device) starting over, and every malformed command answered
// by one error that changes nothing.
#include "broker/broker.h"
#include "broker/commands.h"
#include "broker/device_store.h"
#include "broker/journal.h"
#include "tests/support/unit.h"

#include <map>
#include <memory>
#include <utility>

namespace {

using roost::Broker;
using roost::Errc;
using roost::SessionId;

struct NoTransport final : roost::Transport {
    void wake(SessionId) override {}
};

// Keeps the newest bytes of every bot and device record, as a disk would.
struct KeepingJournal final : roost::Journal {
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::string> bots;
    std::map<std::uint32_t, std::string> devices;
    std::uint32_t watch_saves = 0;
    Errc room_started(std::uint32_t, std::string_view, std::string_view) override { return Errc::ok; }
    Errc appended(std::uint32_t, roost::HistoryClass, std::uint64_t, const roost::EntryMeta&, std::string_view) override {
        return Errc::ok;
    }
    void key_set(std::uint32_t, std::string_view, std::string_view) override {}
    void read_set(std::uint32_t, std::uint32_t, std::string_view, std::uint64_t) override {}
    void record_saved(std::uint32_t t, std::uint32_t i, std::string_view b) override {
        bots[{t, i}] = std::string(b);
        if (t == static_cast<std::uint32_t>(roost::RecordTable::watches)) ++watch_saves;
    }
    void device_saved(std::uint32_t i, std::string_view b) override { devices[i] = std::string(b); }
};

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }
#define ASSERT_HAS(hay, needle)                                                                         \
    do {                                                                                                \
        const std::string h_ = (hay);                                                                   \
        if (!has(h_, needle)) fail_msg("expected \"%s\" in:\n%s", std::string(needle).c_str(), h_.c_str()); \
    } while (0)
#define ASSERT_LACKS(hay, needle)                                                                       \
    do {                                                                                                \
        const std::string h_ = (hay);                                                                   \
        if (has(h_, needle)) fail_msg("did not expect \"%s\" in:\n%s", std::string(needle).c_str(), h_.c_str()); \
    } while (0)

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
    return n;
}

struct Watching {
    roost::CoreLimits limits;
    roost::FakeClock clock;
    roost::SplitMix random{7};
    NoTransport transport;
    KeepingJournal journal;
    std::unique_ptr<Broker> broker;
    SessionId ann = 0;
    explicit Watching(roost::CoreLimits l = {}, std::uint64_t start_ms = 1767261600000ULL) : limits(l) {
        limits.msg_rate = 1000;
        limits.msg_burst = 1000;
        limits.error_limit = 10000;
        clock.set(start_ms);
        broker = std::make_unique<Broker>(limits, clock, random, transport);
        broker->set_journal(&journal);
        ann = join("ann");
    }
    SessionId join(const std::string& nick, const std::string& room = "alerts") {
        const std::uint8_t addr[16] = {};
        const SessionId s = broker->open_session(addr);
        send(s, R"({"type":"hello","nick":")" + nick + "\"}");
        send(s, R"({"type":"join","room":")" + room + R"(","backlog":0})");
        drain(s);
        return s;
    }
    void send(SessionId s, const std::string& f) { broker->on_frame(s, f.data(), f.size()); }
    std::string drain(SessionId s) {
        std::string all;
        roost::Frame f;
        while (broker->next_frame(s, f)) all.append(f.data, f.len).append("\n");
        return all;
    }
    std::string say(const std::string& text, SessionId s = 0) {
        if (s == 0) s = ann;
        std::string j = R"({"type":"say","room":"alerts","text":")";
        for (char ch : text) j += ch == '"' ? std::string("\\\"") : std::string(1, ch);
        send(s, j + R"(","cid":"c"})");
        return drain(s);
    }
    // A reading of `device` into `room` now; what ann got from it.
    std::string post(const std::string& device, const std::string& data, const std::string& room = "sensors") {
        roost::PostResult r;
        assert_int_equal(static_cast<int>(broker->post(room, device, roost::MsgKind::device, "", data, {}, r)),
                         static_cast<int>(Errc::ok));
        return drain(ann);
    }
    std::string pass(std::uint64_t ms) {
        clock.advance(ms);
        broker->tick();
        return drain(ann);
    }
    // The watches device `device` of #sensors answers to: "id:alert" each.
    std::string device_watches(const std::string& device, const std::string& room = "sensors") {
        std::string out;
        roost::device_watches(
            *broker, room, device,
            [](void* ctx, const roost::DeviceWatch& w) {
                *static_cast<std::string*>(ctx) += std::to_string(w.id) + (w.alert ? ":alert " : ":ok ");
            },
            &out);
        return out;
    }
};

void two_devices_alert_and_come_back_on_their_own(void**) {
    Watching t;
    ASSERT_HAS(t.say("/watch sensors temp > 30 hyst 1"), "Watch 1: #sensors temp > 30 (hysteresis 1)");
    t.clock.advance(1000);
    std::string out = t.post("kitchen", R"({"temp":31})");
    ASSERT_HAS(out, "⚠️ #sensors: kitchen temp is 31 (> 30)");
    ASSERT_HAS(out, R"("data":{"bot":"watch","watch":1,"device":"kitchen","key":"temp","value":31,"state":"alert"})");
    // The garage, steady below: nothing, and the kitchen is not "back".
    for (int i = 0; i < 6; ++i) {
        t.clock.advance(5000);
        assert_string_equal(t.post("garage", R"({"temp":14})").c_str(), "");
        assert_string_equal(t.post("kitchen", R"({"temp":31})").c_str(), "");
    }
    out = t.post("garage", R"({"temp":35.5})");
    ASSERT_HAS(out, "⚠️ #sensors: garage temp is 35.5 (> 30)");
    ASSERT_HAS(out, R"("device":"garage","key":"temp","value":35.5,"state":"alert")");
    ASSERT_HAS(t.say("/watch list"), "1. #sensors temp > 30 (hysteresis 1) by ann, alerts in #alerts; in alert: kitchen, garage");
    assert_string_equal(t.device_watches("kitchen").c_str(), "1:alert ");
    assert_string_equal(t.device_watches("KITCHEN").c_str(), "1:alert ");
    t.clock.advance(5000);
    out = t.post("kitchen", R"({"temp":29})");
    ASSERT_HAS(out, "✅ #sensors: kitchen temp is back to 29");
    ASSERT_HAS(out, R"("data":{"bot":"watch","watch":1,"device":"kitchen","key":"temp","value":29,"state":"back"})");
    assert_int_equal(count(out, R"("type":"msg")"), 1);
    assert_string_equal(t.device_watches("kitchen").c_str(), "1:ok ");
    assert_string_equal(t.device_watches("garage").c_str(), "1:alert ");
    assert_string_equal(t.device_watches("shed").c_str(), "1:ok "); // a device it never heard
    ASSERT_HAS(t.say("/watch list"), "; in alert: garage");
    out = t.post("garage", R"({"temp":20})");
    ASSERT_HAS(out, "✅ #sensors: garage temp is back to 20");
    ASSERT_LACKS(t.say("/watch list"), "in alert");
    // Another room's kitchen is not this watch's.
    assert_string_equal(t.post("kitchen", R"({"temp":99})", "other").c_str(), "");
}

void a_named_device_watch_ignores_the_others(void**) {
    Watching t;
    ASSERT_HAS(t.say("/watch sensors Kitchen temp >= 30 hyst 2"), "Watch 1: #sensors Kitchen temp >= 30 (hysteresis 2)");
    ASSERT_HAS(t.say("/watch sensors kitchen silent 1m"), "Watch 2: #sensors kitchen silent for 1 min");
    assert_string_equal(t.post("garage", R"({"temp":40})").c_str(), "");
    assert_string_equal(t.device_watches("garage").c_str(), "");
    std::string out = t.post("KITCHEN", R"({"temp":30})");
    ASSERT_HAS(out, "⚠️ #sensors: KITCHEN temp is 30 (>= 30)");
    ASSERT_HAS(out, R"("watch":1,"device":"KITCHEN")");
    assert_string_equal(t.device_watches("kitchen").c_str(), "1:alert 2:ok ");
    ASSERT_HAS(t.say("/watch list"), "1. #sensors Kitchen temp >= 30 (hysteresis 2) by ann, alerts in #alerts; in alert: KITCHEN");
    // The garage posting keeps the kitchen's silent watch from nothing.
    for (int i = 0; i < 7; ++i) {
        const std::string o = t.pass(10000);
        t.post("garage", R"({"temp":40})");
        if (i < 5) ASSERT_LACKS(o, "has not posted");
    }
    ASSERT_HAS(t.drain(t.ann) + t.say("/watch list"), "2. #sensors kitchen silent for 1 min by ann, alerts in #alerts; in alert: KITCHEN");
}

void silence_is_per_device(void**) {
    Watching t;
    t.post("kitchen", R"({"temp":20})");
    t.post("garage", R"({"temp":14})");
    ASSERT_HAS(t.say("/watch sensors silent 1m"), "Watch 1: #sensors silent for 1 min");
    ASSERT_HAS(t.say("/watch sensors shed silent 30s"), "Watch 2: #sensors shed silent for 30 s");
    std::string all;
    for (int i = 0; i < 6; ++i) {
        all += t.pass(10000);
        t.post("garage", R"({"temp":14})");
    }
    // The shed never posted: its named watch says so after 30 s.
    ASSERT_HAS(all, "⚠️ #sensors: shed has not posted for 30 s.");
    ASSERT_HAS(all, R"("data":{"bot":"watch","watch":2,"device":"shed","key":null,"state":"alert"})");
    all += t.pass(1000);
    ASSERT_HAS(all, "⚠️ #sensors: kitchen has not posted for 1 min.");
    ASSERT_HAS(all, R"("data":{"bot":"watch","watch":1,"device":"kitchen","key":null,"state":"alert"})");
    ASSERT_LACKS(all, "garage has not posted");
    assert_int_equal(count(all, "has not posted"), 2); // once each
    all = t.pass(120000);
    ASSERT_HAS(all, "garage has not posted for 1 min.");
    ASSERT_LACKS(all, "kitchen has not posted");
    std::string out = t.post("kitchen", R"({"temp":21})");
    ASSERT_HAS(out, "✅ #sensors: kitchen is posting again.");
    ASSERT_HAS(out, R"("data":{"bot":"watch","watch":1,"device":"kitchen","key":null,"state":"back"})");
    assert_int_equal(count(out, R"("type":"msg")"), 1);
    ASSERT_HAS(t.say("/watch list"), "1. #sensors silent for 1 min by ann, alerts in #alerts; in alert: garage");
    // A device new to the room joins the watch of every device.
    t.post("attic", R"({"temp":9})");
    out = t.post("shed", R"({"x":1})");
    ASSERT_HAS(out, "✅ #sensors: shed is posting again.");
    all = t.pass(65000);
    ASSERT_HAS(all, "attic has not posted for 1 min.");
    ASSERT_HAS(all, "shed has not posted for 30 s.");
}

void hysteresis_is_per_device(void**) {
    Watching t;
    t.say("/watch sensors temp > 30");
    ASSERT_HAS(t.post("kitchen", R"({"temp":31})"), "kitchen temp is 31");
    ASSERT_HAS(t.post("garage", R"({"temp":32})"), "garage temp is 32");
    t.clock.advance(20000);
    // 29.9 is within the hysteresis (1.5) for the kitchen; 28 is past it for the garage.
    assert_string_equal(t.post("kitchen", R"({"temp":29.9})").c_str(), "");
    ASSERT_HAS(t.post("garage", R"({"temp":28})"), "garage temp is back to 28");
    assert_string_equal(t.post("kitchen", R"({"temp":30.5})").c_str(), "");
    assert_string_equal(t.post("garage", R"({"temp":30})").c_str(), ""); // armed, not crossed
    ASSERT_HAS(t.post("kitchen", R"({"temp":28.5})"), "kitchen temp is back to 28.5");
    // Below-watches: back means above threshold + hysteresis.
    t.say("/watch sensors hum < 20 hyst 5");
    t.clock.advance(20000);
    ASSERT_HAS(t.post("garage", R"({"hum":10})"), "garage hum is 10 (< 20)");
    assert_string_equal(t.post("garage", R"({"hum":24})").c_str(), "");
    ASSERT_HAS(t.post("garage", R"({"hum":25})"), "garage hum is back to 25");
}

void the_alert_gap_is_per_device(void**) {
    Watching t;
    t.say("/watch sensors temp > 30");
    ASSERT_HAS(t.post("kitchen", R"({"temp":31})"), "kitchen temp is 31");
    t.clock.advance(1000);
    ASSERT_HAS(t.post("kitchen", R"({"temp":20})"), "kitchen temp is back to 20");
    t.clock.advance(1000);
    // Within 10 s of the kitchen's last message: held back, for the kitchen only.
    assert_string_equal(t.post("kitchen", R"({"temp":32})").c_str(), "");
    ASSERT_HAS(t.post("garage", R"({"temp":33})"), "garage temp is 33");
    t.clock.advance(8999);
    assert_string_equal(t.post("kitchen", R"({"temp":32})").c_str(), "");
    t.clock.advance(1);
    ASSERT_HAS(t.post("kitchen", R"({"temp":32})"), "kitchen temp is 32");
}

void states_survive_a_restart(void**) {
    roost::CoreLimits l;
    Watching a(l);
    a.say("/watch sensors temp > 30");
    a.say("/watch sensors silent 1m");
    a.post("kitchen", R"({"temp":31})");
    a.post("garage", R"({"temp":14})");
    a.clock.advance(30000);
    a.post("garage", R"({"temp":14})");
    ASSERT_HAS(a.pass(31000), "kitchen has not posted for 1 min.");
    a.clock.advance(9000);
    a.post("garage", R"({"temp":14})"); // after the watch's last save
    // The second broker: nobody in it yet, rooms, devices and bots restored.
    Watching b(l, a.clock.now_ms());
    for (std::uint32_t ri = 0; ri < l.max_rooms; ++ri) {
        const roost::Room& r = a.broker->room(ri);
        if (!r.used || ri == b.broker->room_index_of("alerts")) continue;
        assert_true(b.broker->restore_room(ri, r.name.view(), std::string_view(r.epoch, roost::kEpochLen)));
    }
    for (const auto& [i, bytes] : a.journal.devices) assert_true(b.broker->restore_device(i, bytes));
    for (const auto& [key, bytes] : a.journal.bots) {
        if (key.first == static_cast<std::uint32_t>(roost::RecordTable::watches)) {
            assert_true(b.broker->restore_record(key.first, key.second, bytes));
        }
    }
    b.broker->start_bots();
    ASSERT_HAS(b.say("/watch list"), "1. #sensors temp > 30 (hysteresis 1.5) by ann, alerts in #alerts; in alert: kitchen");
    ASSERT_HAS(b.say("/watch list"), "2. #sensors silent for 1 min by ann, alerts in #alerts; in alert: kitchen");
    assert_string_equal(b.device_watches("kitchen").c_str(), "1:alert 2:alert ");
    assert_string_equal(b.device_watches("garage").c_str(), "1:ok 2:ok ");
    // Still in alert: no second alert; back past the hysteresis says so once.
    b.clock.advance(5000);
    std::string out = b.post("kitchen", R"({"temp":31})");
    ASSERT_LACKS(out, "temp is 31");
    ASSERT_HAS(out, "kitchen is posting again.");
    ASSERT_HAS(b.post("kitchen", R"({"temp":20})"), "kitchen temp is back to 20");
    // The garage's last reading came back with the store: its silence is
    // counted from it, not from the restart.
    ASSERT_LACKS(b.pass(20000), "garage has not posted");
    ASSERT_HAS(b.pass(36000), "garage has not posted for 1 min.");
}

// A device the store forgot is forgotten by the watches: a room's new
// history, and a store slot given to another device.
void a_forgotten_device_starts_over(void**) {
    roost::CoreLimits l;
    l.max_rooms = 3; // alerts, sensors and one more: a fourth room recycles the quietest
    l.max_devices = 1;
    l.max_series = 4;
    const char* why = nullptr;
    assert_true(roost::parse_archives("1m:10m", l.archives, why)); // a slot is free after 10 min of quiet
    Watching t(l);
    t.say("/watch sensors temp > 30");
    ASSERT_HAS(t.post("garage", R"({"temp":31})"), "garage temp is 31");
    assert_string_equal(t.device_watches("garage").c_str(), "1:alert ");
    // The garage quiet for longer than the archives: the shed (another
    // room) takes its slot, and the garage is no longer in alert.
    t.clock.advance(11 * 60 * 1000);
    t.post("shed", R"({"temp":35})", "attic");
    assert_string_equal(t.device_watches("garage").c_str(), "1:ok ");
    // The garage back in the slot later (the shed quiet): a new device,
    // whose 31 is a new alert.
    t.clock.advance(11 * 60 * 1000);
    ASSERT_HAS(t.post("garage", R"({"temp":31})"), "garage temp is 31");
    assert_string_equal(t.device_watches("garage").c_str(), "1:alert ");
    // Within the room: the shed taking the garage's slot frees the garage's place.
    t.clock.advance(11 * 60 * 1000);
    assert_string_equal(t.post("shed", R"({"temp":20})").c_str(), "");
    std::uint32_t n = 0;
    const roost::Watch* ws = roost::BrokerForCommands::watches(*t.broker, n);
    for (const roost::WatchDevice& e : ws[0].devices) {
        if (e.used) assert_string_equal(e.name, "shed");
    }
    // A new history of #sensors (its slot recycled for another room and
    // then for it again): the garage's alert does not carry over.
    t.clock.advance(11 * 60 * 1000);
    ASSERT_HAS(t.post("garage", R"({"temp":31})"), "garage temp is 31");
    t.clock.advance(1000);
    roost::PostResult r;
    assert_int_equal(static_cast<int>(t.broker->post("room3", "x", roost::MsgKind::device, "hello", "", {}, r)), 0);
    t.clock.advance(1000);
    assert_int_equal(static_cast<int>(t.broker->post("room4", "x", roost::MsgKind::device, "hello", "", {}, r)), 0);
    assert_true(t.broker->find_room("sensors") == nullptr);
    t.clock.advance(1000);
    ASSERT_HAS(t.post("garage", R"({"temp":31})"), "garage temp is 31");
}

void malformed_commands_change_nothing(void**) {
    Watching t;
    const std::string long_words(1800, 'w');
    const std::string d25(25, 'd'), r33(33, 'r');
    const std::vector<std::string> bad = {
        "/watch", "/watch ", "/watch sensors", "/watch sensors temp", "/watch sensors temp >",
        "/watch sensors temp = 3", "/watch sensors temp => 3", "/watch sensors temp > hot",
        "/watch sensors temp > nan", "/watch sensors temp > 1e999", "/watch sensors temp > 3 hyst",
        "/watch sensors temp > 3 hyst -1", "/watch sensors temp > 3 hyst x", "/watch sensors temp > 3 extra",
        "/watch sensors temp > 3 hyst 1 more", "/watch sensors kitchen temp ~ 3", "/watch sensors kitchen temp >",
        "/watch sensors kitchen temp > x", "/watch sensors kitchen temp", "/watch sensors " + d25 + " temp > 3",
        "/watch sensors " + d25 + " silent 5m", "/watch sensors kit!chen temp > 3", "/watch sensors temp" + d25 + " > 3",
        "/watch sensors kitchen " + d25 + " > 3", "/watch " + r33 + " temp > 3", "/watch Bad!Room temp > 3",
        "/watch sensors silent", "/watch sensors silent 2s", "/watch sensors silent 31d", "/watch sensors silent soon",
        "/watch sensors silent 5m extra", "/watch sensors kitchen silent", "/watch sensors kitchen silent 5x",
        "/watch sensors kitchen silent 5m 5m", "/watch sensors " + long_words, "/watch sensors temp > 3 " + long_words,
        "/watch cancel", "/watch cancel 9", "/watch cancel x", "/watch cancel 1.5", "/watch list extra",
    };
    const auto saves = t.journal.watch_saves;
    for (const std::string& cmd : bad) {
        const std::string out = t.say(cmd);
        if (count(out, "\n") != 1 || !has(out, R"({"type":"error")") || !has(out, R"("code":"bad_request")")) {
            fail_msg("%s: %s", cmd.c_str(), out.c_str());
        }
    }
    assert_int_equal(t.journal.watch_saves, saves);
    std::uint32_t n = 0;
    const roost::Watch* ws = roost::BrokerForCommands::watches(*t.broker, n);
    for (std::uint32_t i = 0; i < n; ++i) assert_false(ws[i].used);
    ASSERT_HAS(t.say("/watch list"), "No watches.");
    // The device name at its limit and the words' forms that are fine.
    const std::string d24(24, 'd');
    ASSERT_HAS(t.say("/watch sensors " + d24 + " temp > 3"), "Watch 1: #sensors " + d24 + " temp > 3");
    ASSERT_HAS(t.say("/watch sensors silent silent 10s"), "Watch 2: #sensors silent silent for 10 s");
    ASSERT_HAS(t.say("/watch sensors silent > 3"), "Watch 3: #sensors silent > 3");
    ASSERT_HAS(t.say("/watch sensors silent 30d"), "Watch 4: #sensors silent for 720 h");
}

void the_watch_table_is_bounded(void**) {
    roost::CoreLimits l;
    l.max_watches = 1;
    Watching t(l);
    ASSERT_HAS(t.say("/watch sensors temp > 3"), "Watch 1");
    const auto saves = t.journal.watch_saves;
    const std::string out = t.say("/watch sensors temp > 4");
    ASSERT_HAS(out, R"("code":"server_busy")");
    assert_int_equal(count(out, "\n"), 1);
    assert_int_equal(t.journal.watch_saves, saves);
    // Zero watches: refused, and readings go on.
    l.max_watches = 0;
    Watching z(l);
    ASSERT_HAS(z.say("/watch sensors temp > 3"), R"("code":"server_busy")");
    assert_string_equal(z.post("kitchen", R"({"temp":5})").c_str(), "");
    assert_string_equal(z.device_watches("kitchen").c_str(), "");
}

// A watch of every device follows kWatchDevices of them: a newcomer takes
// the place of the quietest not in alert, and none of one in alert.
void a_watch_follows_a_bounded_number_of_devices(void**) {
    roost::CoreLimits l;
    l.max_devices = 64;
    l.max_series = 64;
    Watching t(l);
    t.say("/watch sensors temp > 30");
    for (std::uint32_t i = 0; i < roost::kWatchDevices; ++i) {
        t.clock.advance(1000);
        ASSERT_HAS(t.post("d" + std::to_string(i), R"({"temp":31})"), "d" + std::to_string(i) + " temp is 31");
    }
    ASSERT_HAS(t.say("/watch list"), "(follows 16 devices, the most one watch does)");
    // All in alert: the seventeenth goes unwatched.
    assert_string_equal(t.post("late", R"({"temp":31})").c_str(), "");
    // One back: its place goes to the next newcomer.
    t.clock.advance(20000);
    ASSERT_HAS(t.post("d3", R"({"temp":10})"), "d3 temp is back to 10");
    ASSERT_HAS(t.post("late", R"({"temp":31})"), "late temp is 31");
    assert_string_equal(t.device_watches("late").c_str(), "1:alert ");
    assert_string_equal(t.device_watches("d0").c_str(), "1:alert ");
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_devices_alert_and_come_back_on_their_own),
        cmocka_unit_test(a_named_device_watch_ignores_the_others),
        cmocka_unit_test(silence_is_per_device),
        cmocka_unit_test(hysteresis_is_per_device),
        cmocka_unit_test(the_alert_gap_is_per_device),
        cmocka_unit_test(states_survive_a_restart),
        cmocka_unit_test(a_forgotten_device_starts_over),
        cmocka_unit_test(malformed_commands_change_nothing),
        cmocka_unit_test(the_watch_table_is_bounded),
        cmocka_unit_test(a_watch_follows_a_bounded_number_of_devices),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
