// Tests for the bots (broker/bots.cpp, remind.cpp, hangman.cpp, wordle.cpp,
// watch.cpp): every command and its bad forms, driven through a real Broker
// with the fake clock; timeouts by moving the clock and running due timers;
// the persistence round trip through Journal::record_saved / restore_record.
#include "broker/broker.h"
#include "broker/words.h"
#include "tests/support/broker_fixture.h"
#include "tests/support/recording_journal.h"
#include "tests/support/unit.h"

#include <map>
#include <memory>

namespace {

using roost::Broker;
using roost::Errc;
using roost::SessionId;

// Limits that let a test say as much as it likes.
roost::CoreLimits chatty(roost::CoreLimits l) {
    l.msg_rate = 1000;
    l.msg_burst = 1000;
    l.error_limit = 10000;
    return l;
}

struct Bots : roost_test::BrokerFixture {
    roost_test::RecordingJournal journal;
    explicit Bots(const roost::CoreLimits& l = {}) : BrokerFixture(chatty(l), 99) { broker->set_journal(&journal); }
    SessionId join(const std::string& nick, const std::string& room = "lobby") {
        const std::uint8_t addr[16] = {};
        const SessionId s = broker->open_session(addr);
        send(s, R"({"type":"hello","nick":")" + nick + "\"}");
        send(s, R"({"type":"join","room":")" + room + R"(","backlog":0})");
        drain(s);
        return s;
    }
    std::string drain(SessionId s) {
        std::string all;
        roost::Frame f;
        while (broker->next_frame(s, f)) all.append(f.data, f.len).append("\n");
        return all;
    }
    // Says `text` in `room` and returns everything `s` got after it.
    std::string say(SessionId s, const std::string& text, const std::string& room = "lobby") {
        std::string j = R"({"type":"say","room":")" + room + R"(","text":")";
        for (char ch : text) j += ch == '"' ? std::string("\\\"") : std::string(1, ch);
        send(s, j + R"(","cid":"c"})");
        return drain(s);
    }
    void pass(std::uint64_t ms) {
        clock.advance(ms);
        broker->tick();
    }
    std::string history(const std::string& room) {
        const roost::Room* r = broker->find_room(room);
        std::string all;
        if (r == nullptr) return all;
        for (std::uint64_t s = r->history->oldest(); s <= r->history->head(); ++s) {
            const char* d = nullptr;
            std::uint32_t n = 0;
            if (r->history->get(s, d, n)) all.append(d, n).append("\n");
        }
        return all;
    }
};

// The room slot's games and scores as the journal last got them.
roost::RoomBots saved_games(const Bots& b, std::uint32_t ri = 0) {
    roost::RoomBots rb;
    std::memcpy(&rb, b.journal.bots.at({2, ri}).data(), sizeof rb);
    return rb;
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }
#define ASSERT_HAS(hay, needle)                                                                         \
    do {                                                                                                \
        if (!has(hay, needle)) fail_msg("expected \"%s\" in:\n%s", std::string(needle).c_str(), std::string(hay).c_str()); \
    } while (0)
#define ASSERT_LACKS(hay, needle)                                                                       \
    do {                                                                                                \
        if (has(hay, needle)) fail_msg("did not expect \"%s\" in:\n%s", std::string(needle).c_str(), std::string(hay).c_str()); \
    } while (0)

void parsers(void**) {
    std::uint64_t ms = 0;
    assert_true(roost::parse_duration("10m", ms) && ms == 600000);
    assert_true(roost::parse_duration("1h30m", ms) && ms == 5400000);
    assert_true(roost::parse_duration("45s", ms) && ms == 45000);
    assert_true(roost::parse_duration("30d", ms));
    for (const char* bad : {"", "10", "m", "10x", "31d", "0m", "-5m", "1.5h", "99999999m"}) {
        assert_false(roost::parse_duration(bad, ms));
    }
    std::uint32_t m = 0;
    assert_true(roost::parse_clock("18:30", m) && m == 1110);
    assert_true(roost::parse_clock("7:05", m) && m == 425);
    for (const char* bad : {"24:00", "18:60", "1830", "18:3", ":30", "ab:cd", "018:30"}) {
        assert_false(roost::parse_clock(bad, m));
    }
    double v = 0;
    assert_true(roost::data_number(R"({"door":"a\"b,","temp":21.5,"ok":true})", "temp", v) && v == 21.5);
    assert_false(roost::data_number(R"({"temp":"hot"})", "temp", v));
    assert_false(roost::data_number(R"({"other":1})", "temp", v));
    assert_true(roost::wordle_find("crane") >= 0);
    assert_int_equal(roost::wordle_find("zzzzz"), -1);
    assert_true(roost::kWordleCount > 4000);
}

void the_bots_name_is_reserved(void**) {
    Bots b;
    const std::uint8_t addr[16] = {};
    const SessionId s = b.broker->open_session(addr);
    b.send(s, R"({"type":"hello","nick":"Roost"})");
    ASSERT_HAS(b.drain(s), R"("code":"nick_taken")");
    const SessionId ann = b.join("ann");
    ASSERT_HAS(b.say(ann, "/nick roost"), R"("code":"nick_taken")");
}

void reminders(void**) {
    Bots b;
    b.clock.set(1767261600000ULL); // 2026-01-01 10:00 UTC
    b.clock.set_offset_min(60);    // the broker's zone: UTC+1 (11:00 local)
    const SessionId ann = b.join("ann");
    std::string out = b.say(ann, "/remind in 10m tea is ready");
    ASSERT_HAS(out, R"("type":"ack")");
    ASSERT_HAS(out, "Reminder 1 set for 11:10 (in 10 min): tea is ready");
    ASSERT_HAS(out, R"("room":"@ann+roost")"); // privately, in the DM room with the bot
    ASSERT_HAS(out, R"({"type":"ack","cid":"c","room":"@ann+roost","seq":1})"); // the ack says where
    ASSERT_HAS(b.say(ann, "/remind at 18:30 call bob"), "Reminder 2 set for 18:30");
    ASSERT_HAS(b.say(ann, "/remind at 09:00 standup"), "set for 2026-01-02 09:00"); // tomorrow
    out = b.say(ann, "/remind list");
    ASSERT_HAS(out, "1. 11:10 in #lobby: tea is ready");
    ASSERT_HAS(out, "3. 2026-01-02 09:00 in #lobby: standup");
    for (const char* bad : {"/remind", "/remind in", "/remind in 10m", "/remind in soon x", "/remind at 25:00 x",
                            "/remind cancel", "/remind cancel 99", "/remind cancel x", "/remind later x"}) {
        const std::string e = b.say(ann, bad);
        if (!has(e, R"("code":"bad_request")")) fail_msg("%s: %s", bad, e.c_str());
    }
    ASSERT_HAS(b.say(ann, "/remind in 1m " + std::string(201, 'x')), "text_too_long");
    // Only the author cancels.
    const SessionId bob = b.join("bob");
    ASSERT_HAS(b.say(bob, "/remind cancel 2"), "you have no reminder with that number");
    ASSERT_HAS(b.say(ann, "/remind cancel 2"), "Reminder 2 cancelled: call bob");
    // It fires in the room and as a DM, even with the author offline.
    b.broker->close_session(ann);
    b.pass(10 * 60 * 1000);
    ASSERT_HAS(b.history("lobby"), "⏰ Reminder for ann: tea is ready");
    ASSERT_HAS(b.history("@ann+roost"), "⏰ Reminder (set in #lobby): tea is ready");
    ASSERT_HAS(b.drain(bob), "⏰ Reminder for ann: tea is ready");
    const SessionId ann2 = b.join("ann", "elsewhere");
    ASSERT_HAS(b.drain(ann2) + b.say(ann2, "/remind list", "elsewhere"), "3. ");
}

void reminder_limits(void**) {
    roost::CoreLimits l;
    l.reminders_per_nick = 2;
    l.max_reminders = 3;
    Bots b(l);
    const SessionId ann = b.join("ann"), bob = b.join("bob");
    b.say(ann, "/remind in 1h a");
    b.say(ann, "/remind in 1h b");
    ASSERT_HAS(b.say(ann, "/remind in 1h c"), "as many reminders pending as one nick may");
    b.say(bob, "/remind in 1h d");
    ASSERT_HAS(b.say(bob, "/remind in 1h e"), "the broker holds as many reminders as it may");
}

void hangman(void**) {
    Bots b;
    const SessionId ann = b.join("ann"), bob = b.join("bob");
    ASSERT_HAS(b.say(ann, "/guess e"), "no Hangman game is on here");
    ASSERT_HAS(b.say(ann, "/hangman start planets"), "no such category; pick one of: animals food home tech nature");
    ASSERT_HAS(b.say(ann, "/hangman"), "usage: /hangman start");
    std::string out = b.say(ann, "/hangman start animals");
    ASSERT_HAS(out, "Hangman (animals)");
    ASSERT_HAS(out, "  +---+");
    ASSERT_HAS(b.say(bob, "/hangman start"), "a Hangman game is on here");
    const roost::HangmanGame g = saved_games(b).hangman; // the word, from the journal's copy
    const std::string word(g.word, g.len);
    // A wrong letter, then the same again, then bad forms.
    char wrong = 'a';
    while (word.find(wrong) != std::string::npos) ++wrong;
    out = b.say(bob, std::string("/guess ") + wrong);
    ASSERT_HAS(out, "wrong 1 of 6");
    ASSERT_HAS(out, "missed: " + std::string(1, wrong));
    ASSERT_HAS(out, "bob: no.");
    ASSERT_HAS(b.say(bob, std::string("/guess ") + wrong), "that letter was guessed already");
    ASSERT_HAS(b.say(bob, "/guess 3"), "usage: /guess LETTER");
    ASSERT_HAS(b.say(bob, "/guess"), "usage: /guess LETTER");
    out = b.say(ann, std::string("/guess ") + word[0]);
    ASSERT_HAS(out, "ann: yes.");
    ASSERT_HAS(out, std::string(1, static_cast<char>(word[0] - 'a' + 'A')) + " ");
    out = b.say(bob, "/guess " + word);
    ASSERT_HAS(out, "bob solved it: " + word + "! Scores: bob 1");
    ASSERT_HAS(b.say(ann, "/hangman scores"), "Hangman scores in #lobby: bob 1");
    // Six wrong guesses hang; an idle game ends by itself.
    b.say(ann, "/hangman start tech");
    const roost::RoomBots rb = saved_games(b);
    const std::string w2(rb.hangman.word, rb.hangman.len);
    int wrongs = 0;
    for (char ch = 'z'; wrongs < 6; --ch) {
        if (w2.find(ch) != std::string::npos) continue;
        out = b.say(ann, std::string("/guess ") + ch);
        ++wrongs;
    }
    ASSERT_HAS(out, "Hanged! The word was " + w2);
    ASSERT_HAS(out, " / \\\\  |"); // the whole body (JSON-escaped backslash)
    b.say(ann, "/hangman start food");
    b.pass(10 * 60 * 1000 + 1000);
    ASSERT_HAS(b.history("lobby"), "Hangman ended: nobody guessed for 10 minutes");
    ASSERT_HAS(b.say(ann, "/hangman stop"), "no Hangman game is on here");
}

// Plays the answer's letters: the tiles of `guess` against it.
std::string tiles_of(const std::string& out) {
    const std::size_t p = out.find(R"("tiles":")");
    return p == std::string::npos ? "" : out.substr(p + 9, 5);
}

void wordle(void**) {
    Bots b;
    const SessionId ann = b.join("ann"), bob = b.join("bob");
    ASSERT_HAS(b.say(ann, "/w crane"), "no Wordle is on here");
    ASSERT_HAS(b.say(ann, "/wordle tomorrow"), "usage: /wordle");
    ASSERT_HAS(b.say(ann, "/wordle"), "A Wordle is on");
    ASSERT_HAS(b.say(bob, "/wordle"), "a Wordle is on here");
    const roost::RoomBots rb = saved_games(b);
    const std::string answer(rb.wordle.answer, 5);
    ASSERT_HAS(b.say(ann, "/w cran"), "usage: /w WORD (five letters)");
    ASSERT_HAS(b.say(ann, "/w zzzzz"), "not in the word list");
    // A word that is not the answer: tiles in the room without letters,
    // letters only in ann's DM room.
    std::string guess = "crane" == answer ? "slate" : "crane";
    std::string out = b.say(ann, "/w " + std::string(1, static_cast<char>(guess[0] - 32)) + guess.substr(1));
    const std::string room_tiles = tiles_of(out);
    assert_int_equal(room_tiles.size(), 5);
    ASSERT_HAS(b.history("lobby"), "ann ");
    ASSERT_LACKS(b.history("lobby"), std::string("\"guess\""));
    std::string upper = guess;
    for (char& ch : upper) ch = static_cast<char>(ch - 32);
    ASSERT_HAS(b.history("@ann+roost"), upper);
    ASSERT_LACKS(b.history("@bob+roost"), upper);
    // Tiles follow the rules, duplicates included.
    for (int i = 0; i < 5; ++i) {
        const char t = room_tiles[static_cast<std::size_t>(i)];
        if (guess[static_cast<std::size_t>(i)] == answer[static_cast<std::size_t>(i)]) assert_int_equal(t, 'G');
        else if (answer.find(guess[static_cast<std::size_t>(i)]) == std::string::npos) assert_int_equal(t, '-');
    }
    // bob solves first; ann runs out; the leaderboard comes when all are done.
    out = b.say(bob, "/w " + answer);
    ASSERT_HAS(out, "🎉 bob solved it first, in 1!");
    ASSERT_HAS(out, R"("tiles":"GGGGG")");
    ASSERT_HAS(b.say(bob, "/w " + answer), "you are done with this puzzle");
    for (int i = 0; i < 5; ++i) out = b.say(ann, "/w " + guess);
    ASSERT_HAS(out, "out of tries");
    ASSERT_HAS(out, "Wordle over (everyone is done): the word was");
    ASSERT_HAS(out, "1. bob 1/6");
    ASSERT_HAS(out, "2. ann X/6");
    ASSERT_HAS(out, "Scores: bob 6");
    ASSERT_HAS(b.say(ann, "/wordle scores"), "Wordle scores in #lobby: bob 6");
    // /wordle end, and an idle puzzle ends by itself.
    b.say(ann, "/wordle");
    ASSERT_HAS(b.say(ann, "/wordle end"), "Wordle over (ended)");
    ASSERT_HAS(b.say(ann, "/wordle end"), "no Wordle is on here");
    b.say(ann, "/wordle");
    b.pass(30 * 60 * 1000 + 1000);
    ASSERT_HAS(b.history("lobby"), "Wordle over (nobody guessed for 30 minutes)");
}

void wordle_daily_is_one_word_a_day(void**) {
    std::string first;
    for (int run = 0; run < 2; ++run) {
        Bots b;
        b.clock.set(1767261600000ULL + static_cast<std::uint64_t>(run) * 3600000); // same day, an hour apart
        const SessionId ann = b.join("ann", run == 0 ? "a" : "b");
        ASSERT_HAS(b.say(ann, "/wordle daily", run == 0 ? "a" : "b"), "Today's Wordle is on");
        const roost::RoomBots rb = saved_games(b);
        const std::string w(rb.wordle.answer, 5);
        const std::int32_t i = roost::wordle_find(w);
        assert_true(i >= 0 && roost::wordle_is_answer(static_cast<std::uint32_t>(i)));
        if (run == 0) first = w;
        else assert_string_equal(first.c_str(), w.c_str());
    }
}

void wordle_players_are_bounded(void**) {
    Bots b;
    const SessionId ann = b.join("ann");
    b.say(ann, "/wordle");
    for (std::uint32_t i = 0; i < roost::kWordlePlayers; ++i) b.say(b.join("p" + std::to_string(i)), "/w crane");
    ASSERT_HAS(b.say(ann, "/w crane"), "as many players as it takes");
}

void watches(void**) {
    Bots b;
    const SessionId ann = b.join("ann", "alerts");
    ASSERT_HAS(b.say(ann, "/watch sensors temp > 30", "alerts"), "👀 Watch 1: #sensors temp > 30 (hysteresis 1.5)");
    ASSERT_HAS(b.say(ann, "/watch sensors hum <= 20 hyst 2", "alerts"), "Watch 2: #sensors hum <= 20 (hysteresis 2)");
    for (const char* bad : {"/watch", "/watch sensors", "/watch sensors temp", "/watch sensors temp = 3",
                            "/watch sensors temp > hot", "/watch sensors temp > 3 hyst", "/watch sensors temp > 3 hyst -1",
                            "/watch Bad!Room temp > 3", "/watch sensors silent", "/watch sensors silent 2s",
                            "/watch cancel 9"}) {
        const std::string e = b.say(ann, bad, "alerts");
        if (!has(e, R"("code":"bad_request")")) fail_msg("%s: %s", bad, e.c_str());
    }
    auto post = [&](const std::string& data) {
        roost::PostResult r;
        assert_int_equal(static_cast<int>(b.broker->post("sensors", "kitchen", roost::MsgKind::device, "", data, {}, r)),
                         static_cast<int>(Errc::ok));
        b.clock.advance(20000);
        return b.drain(ann);
    };
    assert_string_equal(post(R"({"temp":29.5})").c_str(), "");
    std::string out = post(R"({"temp":31.2})");
    ASSERT_HAS(out, "⚠️ #sensors: kitchen temp is 31.2 (> 30)");
    ASSERT_HAS(out, R"("state":"alert")");
    // Hovering at the line does not flap; back past the hysteresis re-arms.
    assert_string_equal(post(R"({"temp":29.9})").c_str(), "");
    assert_string_equal(post(R"({"temp":30.5})").c_str(), "");
    ASSERT_HAS(post(R"({"temp":28.4})"), "✅ #sensors: kitchen temp is back to 28.4");
    ASSERT_HAS(post(R"({"temp":35})"), "kitchen temp is 35 (> 30)");
    ASSERT_HAS(post(R"({"hum":15,"temp":35})"), "kitchen hum is 15 (<= 20)");
    // Silent: a device quiet for the time given (tests/broker/test_watch.cpp has the rest).
    ASSERT_HAS(b.say(ann, "/watch sensors silent 5m", "alerts"), "Watch 3: #sensors silent for 5 min");
    b.pass(4 * 60 * 1000);
    ASSERT_LACKS(b.drain(ann), "has not posted");
    b.pass(61 * 1000);
    ASSERT_HAS(b.drain(ann), "⚠️ #sensors: kitchen has not posted for 5 min.");
    ASSERT_HAS(post(R"({"temp":20})"), "✅ #sensors: kitchen is posting again.");
    out = b.say(ann, "/watch list", "alerts");
    ASSERT_HAS(out, "1. #sensors temp > 30 (hysteresis 1.5) by ann, alerts in #alerts");
    ASSERT_HAS(out, "3. #sensors silent for 5 min by ann");
    const SessionId bob = b.join("bob", "alerts");
    ASSERT_HAS(b.say(bob, "/watch cancel 1", "alerts"), "only the one who set a watch cancels it");
    ASSERT_HAS(b.say(ann, "/watch cancel 1", "alerts"), "Watch 1 cancelled");
    ASSERT_LACKS(post(R"({"temp":99})"), "temp is 99");
}

// Everything the bots keep comes back from the journal's bytes.
void persistence_round_trip(void**) {
    roost::CoreLimits l;
    Bots a(l);
    a.clock.set(1767261600000ULL);
    const SessionId ann = a.join("ann");
    a.say(ann, "/remind in 1h water the plants");
    a.say(ann, "/hangman start home");
    a.say(ann, "/guess e");
    a.say(ann, "/wordle");
    a.say(ann, "/w crane");
    a.say(ann, "/watch sensors temp > 30");
    // A second broker, rebuilt from the journal's records (rooms first, as
    // DiskJournal does: history, then state).
    Bots b(l);
    b.clock.set(a.clock.now_ms());
    for (std::uint32_t ri = 0; ri < l.max_rooms; ++ri) {
        const roost::Room& r = a.broker->room(ri);
        if (r.used) assert_true(b.broker->restore_room(ri, r.name.view(), std::string_view(r.epoch, roost::kEpochLen)));
    }
    for (const auto& [key, bytes] : a.journal.bots) {
        const bool room_record = key.first == 2;
        const bool ok = b.broker->restore_record(key.first, key.second, bytes);
        if (!room_record || a.broker->room(key.second).used) assert_true(ok);
    }
    b.broker->start_bots();
    const SessionId ann2 = b.join("ann");
    ASSERT_HAS(b.say(ann2, "/remind list"), "1. 11:00 in #lobby: water the plants");
    ASSERT_HAS(b.say(ann2, "/hangman start"), "a Hangman game is on here");
    ASSERT_HAS(b.say(ann2, "/guess e"), "that letter was guessed already");
    ASSERT_HAS(b.say(ann2, "/w crane"), "2/6");
    ASSERT_HAS(b.say(ann2, "/watch list"), "1. #sensors temp > 30");
    b.pass(3600 * 1000);
    ASSERT_HAS(b.history("lobby"), "⏰ Reminder for ann: water the plants");
    // A record of another room (a recycled slot) is refused.
    roost::RoomBots other{};
    std::memcpy(other.room, "nothere", 8);
    assert_false(b.broker->restore_record(2, 0, {reinterpret_cast<const char*>(&other), sizeof other}));
    assert_false(b.broker->restore_record(0, 0, "short"));
    assert_false(b.broker->restore_record(7, 0, "x"));
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parsers),
        cmocka_unit_test(the_bots_name_is_reserved),
        cmocka_unit_test(reminders),
        cmocka_unit_test(reminder_limits),
        cmocka_unit_test(hangman),
        cmocka_unit_test(wordle),
        cmocka_unit_test(wordle_daily_is_one_word_a_day),
        cmocka_unit_test(wordle_players_are_bounded),
        cmocka_unit_test(watches),
        cmocka_unit_test(persistence_round_trip),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
