#include "broker/commands.h"

#include "broker/broker.h"
#include "broker/names.h"

#include <cstdio>

namespace roost {

namespace {

using Handler = void (*)(Ctx&);

struct CommandSpec {
    std::string_view name;
    std::string_view usage;
    Handler run;
};

void cmd_help(Ctx& c);
void cmd_me(Ctx& c);
void cmd_nick(Ctx& c);

const CommandSpec kCommands[] = {
    {"help", "/help: list the commands", cmd_help},
    {"me", "/me ACTION: say it as an action (\"* ann waves\")", cmd_me},
    {"nick", "/nick NEWNAME: change your nick", cmd_nick},
    {"remind", "/remind in 10m TEXT | at 18:30 TEXT | list | cancel N", cmd_remind},
    {"hangman", "/hangman start [CATEGORY] | stop | scores", cmd_hangman},
    {"guess", "/guess LETTER or /guess WORD: play Hangman", cmd_guess},
    {"wordle", "/wordle [daily] | end | scores: a shared puzzle", cmd_wordle},
    {"w", "/w WORD: guess the Wordle", cmd_w},
    {"watch", "/watch ROOM KEY > 30 [hyst 1] | ROOM silent 5m | list | cancel N", cmd_watch},
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

} // namespace


namespace {

void cmd_help(Ctx& c) {
    char buf[1024];
    std::size_t n = 0;
    const char head[] = "Commands:";
    for (char ch : std::string_view(head)) buf[n++] = ch;
    for (const CommandSpec& spec : kCommands) {
        if (n + 3 + spec.usage.size() >= sizeof buf) break;
        buf[n++] = '\n';
        for (char ch : spec.usage) buf[n++] = ch;
    }
    BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, {buf, n});
}

void cmd_me(Ctx& c) {
    if (c.args.empty()) {
        BrokerForCommands::error(c, Errc::bad_request, "usage: /me ACTION");
        return;
    }
    char buf[4096 + 64];
    const std::string_view who = BrokerForCommands::nick(c);
    if (c.args.size() + who.size() + 3 > sizeof buf) {
        BrokerForCommands::error(c, Errc::text_too_long, "the action is too long");
        return;
    }
    std::size_t n = 0;
    buf[n++] = '*';
    buf[n++] = ' ';
    for (char ch : who) buf[n++] = ch;
    buf[n++] = ' ';
    for (char ch : c.args) buf[n++] = ch;
    if (n > c.b.limits().max_text) {
        BrokerForCommands::error(c, Errc::text_too_long, "the action is too long");
        return;
    }
    BrokerForCommands::answer(c, MsgKind::chat, who, {buf, n});
}

void cmd_nick(Ctx& c) {
    if (!nick_valid(c.args)) {
        BrokerForCommands::error(c, Errc::bad_request, "usage: /nick NEWNAME (1-24 of A-Z a-z 0-9 _ - .)");
        return;
    }
    BrokerForCommands::rename(c, c.args);
}

} // namespace

void BrokerForCommands::rename(Ctx& c, std::string_view to) {
    Broker& b = c.b;
    Session& s = b.sessions_[c.si];
    const std::uint32_t old = s.nick;
    char lower_buf[kNickMax + 1];
    const std::string_view lower = fold_nick(to, lower_buf, sizeof lower_buf);
    if (b.nicks_[old].lower.view() == lower) {
        b.nicks_[old].display.assign(to); // only the case changes
    } else {
        const std::uint32_t existing = b.nick_index(lower);
        if (lower == CommandRouter::kBotName ||
            (existing != kNone && (b.nicks_[existing].key_len > 0 || b.nicks_[existing].connections > 0))) {
            error(c, Errc::nick_taken, "that nick is in use or owned by a key");
            return;
        }
        Errc err = Errc::ok;
        const std::uint32_t ni = b.claim_nick(to, {}, err);
        if (ni == kNone) {
            error(c, err, "too many nicks");
            return;
        }
        // Presence: leave as the old nick, join as the new one, in every room.
        for (std::uint32_t k = 0; k < b.limits_.rooms_per_session; ++k) {
            const Subscription& x = b.subs_[s.first_sub + k];
            if (!x.used) continue;
            Room& r = b.rooms_[x.room];
            const bool old_last = !b.nick_in_room(old, x.room, s.first_sub + k);
            const bool new_first = !b.nick_in_room(ni, x.room, s.first_sub + k);
            if (old_last) {
                r.members--;
                JsonWriter w(b.encode_.data(), b.encode_.size());
                encode_presence(w, r.name.view(), b.nicks_[old].display.view(), false);
                b.queue_to_room(x.room, {b.encode_.data(), w.size()}, kNone);
            }
            if (new_first) {
                r.members++;
                JsonWriter w(b.encode_.data(), b.encode_.size());
                encode_presence(w, r.name.view(), b.nicks_[ni].display.view(), true);
                b.queue_to_room(x.room, {b.encode_.data(), w.size()}, kNone);
            }
        }
        s.nick = ni;
        b.nicks_[ni].connections++;
        b.nicks_[old].connections--;
        char text[96];
        const int n = std::snprintf(text, sizeof text, "%.*s is now known as %.*s",
                                    static_cast<int>(b.nicks_[old].display.len), b.nicks_[old].display.buf,
                                    static_cast<int>(to.size()), to.data());
        if (b.nicks_[old].connections == 0) {
            b.release_nick(old);
        }
        answer(c, MsgKind::bot, CommandRouter::kBotName, {text, static_cast<std::size_t>(n)});
        return;
    }
    char text[64];
    const int n = std::snprintf(text, sizeof text, "you are now %.*s", static_cast<int>(to.size()), to.data());
    answer(c, MsgKind::bot, CommandRouter::kBotName, {text, static_cast<std::size_t>(n)});
}

void CommandRouter::run(Broker& b, std::uint32_t si, std::uint32_t ri, std::string_view text, std::string_view cid) {
    std::string_view body = text.substr(1);
    const std::size_t sp = body.find(' ');
    const std::string_view name = body.substr(0, sp);
    Ctx c{b, si, ri, sp == std::string_view::npos ? std::string_view() : trim(body.substr(sp + 1)), cid};
    for (const CommandSpec& spec : kCommands) {
        if (spec.name == name) {
            spec.run(c);
            return;
        }
    }
    BrokerForCommands::error(c, Errc::bad_request, "unknown command; try /help");
}

} // namespace roost
