// record_valid(): the booleans are checked on the raw bytes (reading a
// bool that holds 2 is undefined), the rest on a copy of the record.
#include "broker/bot_records.h"

#include "broker/names.h"
#include "broker/utf8.h"

#include <cmath>
#include <cstddef>
#include <cstring>

namespace roost {

namespace {

// A byte that a bool may hold.
bool flag_at(std::string_view bytes, std::size_t offset) {
    return offset < bytes.size() && static_cast<unsigned char>(bytes[offset]) <= 1;
}

bool all_zero(std::string_view bytes) {
    for (const char c : bytes) {
        if (c != '\0') return false;
    }
    return true;
}

// The string in a char array: up to its NUL; false when there is none.
template <std::size_t N>
bool text_of(const char (&a)[N], std::string_view& out) {
    const void* nul = std::memchr(a, '\0', N);
    if (nul == nullptr) return false;
    out = std::string_view(a, static_cast<std::size_t>(static_cast<const char*>(nul) - a));
    return true;
}

template <std::size_t N>
bool nick_in(const char (&a)[N], bool may_be_empty) {
    std::string_view s;
    return text_of(a, s) && ((may_be_empty && s.empty()) || nick_valid(s));
}

template <std::size_t N>
bool any_room_in(const char (&a)[N]) {
    std::string_view s;
    char buf[kAnyRoomNameMax + 1];
    return text_of(a, s) && !s.empty() && fold_any_room_name(s, buf, sizeof buf) == s;
}

bool letters(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] < 'a' || p[i] > 'z') return false;
    }
    return true;
}

bool reminder_valid(std::string_view bytes) {
    if (!flag_at(bytes, offsetof(Reminder, used))) return false;
    Reminder r;
    std::memcpy(&r, bytes.data(), sizeof r);
    if (!r.used) return all_zero(bytes);
    const std::string_view text(r.text, r.text_len <= kBotText ? r.text_len : 0);
    return nick_in(r.nick, false) && any_room_in(r.room) && r.text_len <= kBotText && !text.empty() &&
           utf8_valid(text) && text.find('\0') == std::string_view::npos;
}

// A watch's devices: each used one named like a device (a named watch's
// the first only, by its device's name), each unused one all zeros.
bool watch_devices_valid(std::string_view bytes, const Watch& w) {
    for (std::uint32_t k = 0; k < kWatchDevices; ++k) {
        const std::size_t at = offsetof(Watch, devices) + k * sizeof(WatchDevice);
        if (!flag_at(bytes, at + offsetof(WatchDevice, used)) || !flag_at(bytes, at + offsetof(WatchDevice, tripped))) {
            return false;
        }
        const WatchDevice& e = w.devices[k];
        if (!e.used) {
            if (!all_zero(bytes.substr(at, sizeof(WatchDevice)))) return false;
            continue;
        }
        std::string_view name;
        if (!nick_in(e.name, false) || !text_of(e.name, name) ||
            (w.device[0] != '\0' && (k > 0 || !nick_equal(name, w.device)))) {
            return false;
        }
    }
    return true;
}

bool watch_valid(std::string_view bytes) {
    if (!flag_at(bytes, offsetof(Watch, used))) return false;
    Watch w;
    std::memcpy(&w, bytes.data(), sizeof w);
    if (!w.used) return all_zero(bytes);
    std::string_view room;
    return w.op <= WatchOp::silent && nick_in(w.nick, false) && text_of(w.room, room) && room_name_valid(room) &&
           any_room_in(w.alert_room) && nick_in(w.device, true) && nick_in(w.key, w.op == WatchOp::silent) &&
           std::isfinite(w.threshold) && std::isfinite(w.hysteresis) && watch_devices_valid(bytes, w);
}

bool hangman_valid(const HangmanGame& g) {
    std::string_view category;
    return g.len <= sizeof g.word && letters(g.word, g.len) && g.wrong <= kHangmanLives && text_of(g.category, category) &&
           letters(category.data(), category.size()) && g.guessed < (1u << 26);
}

bool wordle_valid(const WordleGame& g) {
    if (!(letters(g.answer, 5) || all_zero({g.answer, 5})) || g.players > kWordlePlayers || g.finished > g.players ||
        !nick_in(g.first, true)) {
        return false;
    }
    for (std::uint32_t i = 0; i < g.players; ++i) {
        const WordlePlayer& p = g.p[i];
        if (!nick_in(p.nick, false) || p.rows > kWordleRows) return false;
        for (std::uint32_t r = 0; r < p.rows; ++r) {
            if (!letters(p.guesses[r], 5)) return false;
        }
    }
    return true;
}

bool scores_valid(const Score (&table)[kScoreRows]) {
    for (const Score& s : table) {
        if (!nick_in(s.nick, true)) return false;
    }
    return true;
}

bool room_bots_valid(std::string_view bytes) {
    const std::size_t hangman = offsetof(RoomBots, hangman), wordle = offsetof(RoomBots, wordle);
    bool flags = flag_at(bytes, hangman + offsetof(HangmanGame, active)) &&
                 flag_at(bytes, wordle + offsetof(WordleGame, active)) &&
                 flag_at(bytes, wordle + offsetof(WordleGame, daily));
    for (std::uint32_t i = 0; i < kWordlePlayers; ++i) {
        flags = flags && flag_at(bytes, wordle + offsetof(WordleGame, p) + i * sizeof(WordlePlayer) +
                                            offsetof(WordlePlayer, solved));
    }
    if (!flags) return false;
    RoomBots rb;
    std::memcpy(&rb, bytes.data(), sizeof rb);
    std::string_view room;
    return text_of(rb.room, room) && hangman_valid(rb.hangman) && wordle_valid(rb.wordle) &&
           scores_valid(rb.hangman_scores) && scores_valid(rb.wordle_scores);
}

bool bridge_mark_valid(std::string_view bytes) {
    BridgeMark m;
    std::memcpy(&m, bytes.data(), sizeof m);
    std::string_view room, epoch;
    return text_of(m.room, room) && text_of(m.epoch, epoch);
}

} // namespace

bool record_valid(RecordTable t, std::string_view bytes) {
    if (bytes.size() != record_size(t)) return false;
    switch (t) {
    case RecordTable::reminders: return reminder_valid(bytes);
    case RecordTable::watches: return watch_valid(bytes);
    case RecordTable::rooms: return room_bots_valid(bytes);
    case RecordTable::bridge: return bridge_mark_valid(bytes);
    }
    return false;
}

} // namespace roost
