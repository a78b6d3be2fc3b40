// The bots: reminders, Hangman, multiplayer Wordle and device watches. Their
// state is fixed tables reserved with the broker (CoreLimits: max_reminders,
// max_watches, and one RoomBots per room slot); nothing allocates after
// start-up. Every record is plain bytes (trivially copyable, no pointers), so
// the journal keeps it as it is (Journal::record_saved) and restore puts it back.
//
// Time: one sweep timer a second while anything is pending (a reminder, a
// game, a silent watch) fires reminders, ends idle games and raises silent
// watches; the commands live in broker/remind.cpp, hangman.cpp, wordle.cpp
// and watch.cpp, the shared plumbing in bots.cpp.
#pragma once

#include "broker/limits.h"
#include "broker/names.h"

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace roost {

class Broker;

constexpr std::size_t kBotText = 200;         // bytes of a reminder's text
constexpr std::uint32_t kWordlePlayers = 16;  // players of one puzzle
constexpr std::uint32_t kWordleRows = 6;      // guesses a player has
constexpr std::uint32_t kScoreRows = 8;       // best players kept per room and game
constexpr std::uint32_t kHangmanLives = 6;    // wrong guesses before the gallows is complete
constexpr std::uint64_t kHangmanIdleMs = 10 * 60 * 1000; // a game nobody guessed in for this long ends
constexpr std::uint64_t kWordleIdleMs = 30 * 60 * 1000;

struct Reminder {
    bool used;
    std::uint32_t number;            // what the author cancels it by; unique among pending ones
    char nick[kNickMax + 1];         // the author, as shown
    char room[kAnyRoomNameMax + 1];  // where it was set
    std::uint64_t due_ms;
    std::uint16_t text_len;
    char text[kBotText];
};

enum class WatchOp : std::uint8_t { above, below, at_least, at_most, silent };
// ">", "<", ">=", "<=" or "silent": as typed in /watch and listed by the
// devices endpoint.
const char* watch_op_text(WatchOp op);

// The devices one watch follows at once, each with its own alert state. A
// room of a home's sensors holds a handful of devices (max_devices is 32
// in all rooms by default); 16 keeps a watch's record near 1 KiB, so the
// default 64 watches take about 64 KiB (and twice that on disk). A watch of
// a room with more devices follows the first 16 it hears; a device it has
// no room for takes the place of one the device store forgot, else of the
// quietest one not in alert, else it goes unwatched (/watch list says so).
constexpr std::uint32_t kWatchDevices = 16;

// One device a watch follows. `device` (its index in the device store) and
// `first_ms` (that device's first reading) say which device it was: when
// the store forgets it (its room starts a new history, or its slot goes to
// another device) the pair no longer matches, and a device by that name
// starts over with no alert.
struct WatchDevice {
    bool used;
    bool tripped;                    // alerted; re-armed past the hysteresis (or by a reading, when silent)
    char name[kNickMax + 1];         // as the device posts it
    std::uint32_t device;            // store index; kNone until the store knows it
    std::uint64_t first_ms;
    std::uint64_t last_seen_ms;      // its last reading (or when the watch began following it)
    std::uint64_t last_alert_ms;     // alerts of one device are kAlertGapMs apart at least
};

struct Watch {
    bool used;
    WatchOp op;
    std::uint32_t number;
    char nick[kNickMax + 1];         // the author
    char room[kRoomNameMax + 1];     // the watched room
    char alert_room[kAnyRoomNameMax + 1]; // where alerts go: where the watch was set
    char device[kNickMax + 1];       // the one device watched; empty: every device of the room
    char key[kNickMax + 1];          // a data key (not for silent)
    double threshold, hysteresis;
    std::uint64_t silent_ms;         // silent: how long without a reading
    std::uint64_t since_ms;          // when it was set
    WatchDevice devices[kWatchDevices]; // a named device's watch uses the first only
};

struct Score {
    char nick[kNickMax + 1];
    std::uint32_t points;
};

struct HangmanGame {
    bool active;
    std::uint8_t len, wrong;
    char word[16];
    char category[16];
    std::uint32_t guessed; // bit n: letter 'a' + n was guessed
    std::uint64_t last_ms;
};

struct WordlePlayer {
    char nick[kNickMax + 1];
    std::uint8_t rows;
    bool solved;
    char guesses[kWordleRows][5];
    std::uint64_t done_ms; // solved (or out of rows) at
};

struct WordleGame {
    bool active, daily;
    char answer[5];
    std::uint8_t players, finished;
    char first[kNickMax + 1]; // the first solver, once there is one
    std::uint64_t started_ms, last_ms;
    WordlePlayer p[kWordlePlayers];
};

// What the bots keep for one room slot. `room` names the room it belongs
// to: a recycled slot (another room) starts from nothing.
struct RoomBots {
    char room[kAnyRoomNameMax + 1];
    HangmanGame hangman;
    WordleGame wordle;
    Score hangman_scores[kScoreRows];
    Score wordle_scores[kScoreRows];
};

static_assert(std::is_trivially_copyable_v<Reminder> && std::is_trivially_copyable_v<Watch> &&
                  std::is_trivially_copyable_v<RoomBots>,
              "bot records are kept on disk as bytes");

// A fixed buffer being filled with text; what does not fit is cut (at a
// UTF-8 boundary: only whole appends go in).
template <std::size_t N>
struct TextOut {
    char buf[N];
    std::size_t n = 0;
    TextOut& operator<<(std::string_view s) {
        if (n + s.size() <= N) {
            for (char ch : s) buf[n++] = ch;
        }
        return *this;
    }
    TextOut& operator<<(std::uint64_t v) {
        char d[24];
        std::size_t k = 0;
        do {
            d[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        if (n + k <= N) {
            while (k > 0) buf[n++] = d[--k];
        }
        return *this;
    }
    std::string_view view() const { return {buf, n}; }
};

// Parsing the bots' arguments. Each returns false for anything malformed.
// The first word of `s` (up to a space), removing it and the spaces after.
std::string_view next_word(std::string_view& s);
// "45s", "10m", "2h", "1d", "1h30m" (at most 30 days) -> ms.
bool parse_duration(std::string_view s, std::uint64_t& ms);
// "18:30", "7:05" -> minutes after midnight.
bool parse_clock(std::string_view s, std::uint32_t& minutes);
// A decimal number ("30", "-2.5", "1e3"), finite.
bool parse_number(std::string_view s, double& v);
// A number as the bots write it: up to 6 significant digits, no trailing zeros.
std::string_view format_number(double v, char (&out)[32]);
// "18:42" if `ms` falls on the local day of `now_ms`, else "2026-12-01 18:42".
std::string_view format_local(std::uint64_t ms, std::uint64_t now_ms, std::int32_t offset_min, char (&out)[32]);
// Copies `s` (cut to fit) into a NUL-terminated char array.
template <std::size_t N>
void copy_str(char (&dst)[N], std::string_view s) {
    const std::size_t k = s.size() < N - 1 ? s.size() : N - 1;
    for (std::size_t i = 0; i < k; ++i) dst[i] = s[i];
    dst[k] = '\0';
}
// The number value of `key` in a flat JSON object (a message's data);
// false when absent or not a number.
bool data_number(std::string_view data_json, std::string_view key, double& v);

// Adds `points` to `nick` in a room's table of best players (a full table
// keeps its best: a newcomer enters only past its lowest).
void add_score(Score (&table)[kScoreRows], std::string_view nick, std::uint32_t points);
// The table as "ann 3, bob 1" (best first), or "none yet".
std::string_view scores_text(const Score (&table)[kScoreRows], char (&out)[256]);

// The MQTT bridge's publish cursor of one room slot (broker/bridge.cpp):
// kept so a restart goes on publishing where the link had got to.
struct BridgeMark {
    char room[kAnyRoomNameMax + 1];
    char epoch[9];
    std::uint64_t next; // the next seq to publish
};
static_assert(std::is_trivially_copyable_v<BridgeMark>, "kept on disk as bytes");

// The watches a device of a room answers to (GET /api/rooms/{room}/devices):
// every watch of room `room` (its lower-case name) that names `device` or
// any device of the room, with whether it is in alert for that device now.
// `key` is empty for a silent watch. Calls fn once per watch, by id.
struct DeviceWatch {
    std::uint32_t id;
    WatchOp op;
    std::string_view key;
    double threshold;
    std::uint64_t silent_ms;
    bool alert;
};
using DeviceWatchFn = void (*)(void* ctx, const DeviceWatch& w);
void device_watches(Broker& b, std::string_view room, std::string_view device, DeviceWatchFn fn, void* ctx);

// The tables of fixed records the journal keeps in state.roost: the bots'
// (reminders, watches, each room's games and scores) and the MQTT bridge's
// per-room publish cursors (BridgeMark). Numbered as stored; the order is
// the file's.
enum class RecordTable : std::uint32_t { reminders = 0, watches = 1, rooms = 2, bridge = 3 };
constexpr std::uint32_t kRecordTables = 4;
constexpr std::size_t record_size(RecordTable t) {
    return t == RecordTable::reminders ? sizeof(Reminder)
           : t == RecordTable::watches ? sizeof(Watch)
           : t == RecordTable::rooms   ? sizeof(RoomBots)
                                    : sizeof(BridgeMark);
}

} // namespace roost
