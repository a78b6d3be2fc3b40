// Slash commands: text that starts with '/' in a `say` goes here instead of
// being stored as typed. A table of commands (name, usage, handler) that
// later bots and games extend; answers are `kind:"bot"` messages in the room
// or an `error`.
#pragma once

#include "broker/bots.h"
#include "broker/error.h"
#include "broker/events.h"
#include "broker/tables.h"

#include <cstdint>
#include <string_view>

namespace roost {

class Broker;
class DeviceStore;

// One command being run: who said it (session `si`), in which room (`ri`),
// the words after the command's name (trimmed) and the say's cid.
struct Ctx {
    Broker& b;
    std::uint32_t si;
    std::uint32_t ri;
    std::string_view args;
    std::string_view cid;
};

// The Broker as the command handlers and bots see it (and the few Broker
// members that save a record or wake the sweep): the one friend of Broker
// they go through, so what they may touch is listed here and nowhere else.
struct BrokerForCommands {
    // A public answer: a bot message in the command's room, and the say's
    // ack (with its cid) for it.
    static void answer(Ctx& c, MsgKind kind, std::string_view from, std::string_view text, std::string_view data = {});
    // A private answer: a bot message in the direct-message room of the
    // sayer and the bot (`@nick+roost`, joined while online), acked with
    // the say's cid and that room and seq (where the answer is).
    static void answer_private(Ctx& c, std::string_view text, std::string_view data = {});
    // An `error` for the say (its cid, else "say"); nothing is stored.
    static void error(Ctx& c, Errc e, std::string_view message);
    static std::string_view nick(Ctx& c);
    static void rename(Ctx& c, std::string_view to);

    // A bot message in room slot `ri` / in `nick`'s direct-message room with
    // the bot (created when missing; the nick's online sessions join it).
    static Errc bot_say(Broker& b, std::uint32_t ri, std::string_view text, std::string_view data = {});
    static Errc bot_dm(Broker& b, std::string_view nick, std::string_view text, std::string_view data = {},
                       std::uint32_t* room_out = nullptr);

    // The bots' tables and clock.
    static Reminder* reminders(Broker& b, std::uint32_t& count);
    static Watch* watches(Broker& b, std::uint32_t& count);
    static RoomBots& room_bots(Broker& b, std::uint32_t ri);
    // The devices the broker tracks (read only: /watch follows them).
    static const DeviceStore& device_store(Broker& b);
    // The games of room slot `ri` if it is in use and has ever had any; no
    // write (the sweeps read every slot: untouched records stay untouched).
    static RoomBots* games_of(Broker& b, std::uint32_t ri);
    static std::uint32_t room_slot(Broker& b, std::string_view lower_name); // kNone when no such room
    static std::string_view room_name(Broker& b, std::uint32_t ri);
    static std::uint64_t now(Broker& b);
    static std::int32_t utc_offset_min(Broker& b, std::uint64_t ms);
    static std::uint64_t random(Broker& b);
    static const CoreLimits& limits(Broker& b);
    // The journal keeps the record (no-op without one).
    static void save(Broker& b, RecordTable t, std::uint32_t index);
    // The sweep timer runs while anything is pending (see bots.h):
    // wake_sweep arms it if it is not armed; run_sweep is the timer's work.
    static void wake_sweep(Broker& b);
    static void run_sweep(Broker& b);
};

// The bots' commands (remind.cpp, hangman.cpp, wordle.cpp, watch.cpp).
void cmd_remind(Ctx& c);
void cmd_hangman(Ctx& c);
void cmd_guess(Ctx& c);
void cmd_wordle(Ctx& c);
void cmd_w(Ctx& c);
void cmd_watch(Ctx& c);
// Their timed work, from the sweep (true while the bot has something pending).
bool remind_sweep(Broker& b, std::uint64_t now);
bool hangman_sweep(Broker& b, std::uint64_t now);
bool wordle_sweep(Broker& b, std::uint64_t now);
bool watch_sweep(Broker& b, std::uint64_t now);
// A device message with `data_json` was stored in room slot `ri` from `from`,
// the store's device `di` (kNone when the store does not hold it).
void watch_device(Broker& b, std::uint32_t ri, std::string_view from, std::uint32_t di, std::string_view data_json);

struct CommandRouter {
    // Runs `text` (starting with '/') said by session `si` in room `ri`.
    // `cid` is the say's client id (may be empty): the stored answer is
    // acknowledged with it.
    static void run(Broker& b, std::uint32_t si, std::uint32_t ri, std::string_view text, std::string_view cid);

    // The name bot messages are sent from.
    static constexpr std::string_view kBotName = "roost";
};

} // namespace roost
