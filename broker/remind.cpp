// /remind: reminders that fire as a bot message in the room they were set in
// and as a direct message to their author (stored, so an offline author
// finds it in the DM room at the next hello). A fixed table (max_reminders),
// at most reminders_per_nick pending per nick; a reminder's number is its
// slot + 1. "at" times are the broker's local time (the `timezone` setting).
#include "broker/commands.h"

#include "broker/names.h"

namespace roost {

namespace {

constexpr std::string_view kUsage = "usage: /remind in 10m TEXT | /remind at 18:30 TEXT | /remind list | /remind cancel N";

bool same_nick(const char* stored, std::string_view nick) {
    char a[kNickMax + 1], b[kNickMax + 1];
    return fold_nick(stored, a, sizeof a) == fold_nick(nick, b, sizeof b);
}

void list(Ctx& c) {
    std::uint32_t n = 0;
    Reminder* rs = BrokerForCommands::reminders(c.b, n);
    const std::uint64_t now = BrokerForCommands::now(c.b);
    TextOut<2048> out;
    std::uint32_t found = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        if (!rs[i].used || !same_nick(rs[i].nick, BrokerForCommands::nick(c))) continue;
        char when[32];
        out << (found++ == 0 ? "Your reminders:" : "") << "\n" << std::uint64_t{rs[i].number} << ". "
            << format_local(rs[i].due_ms, now, BrokerForCommands::utc_offset_min(c.b, rs[i].due_ms), when) << " in #"
            << rs[i].room << ": " << std::string_view(rs[i].text, rs[i].text_len);
    }
    if (found == 0) out << "You have no reminders.";
    BrokerForCommands::answer_private(c, out.view(), R"({"bot":"remind"})");
}

void cancel(Ctx& c, std::string_view arg) {
    double v = 0;
    std::uint32_t n = 0;
    Reminder* rs = BrokerForCommands::reminders(c.b, n);
    if (!parse_number(arg, v) || v < 1 || v > n || v != static_cast<double>(static_cast<std::uint32_t>(v))) {
        BrokerForCommands::error(c, Errc::bad_request, "usage: /remind cancel N (N from /remind list)");
        return;
    }
    Reminder& r = rs[static_cast<std::uint32_t>(v) - 1];
    if (!r.used || !same_nick(r.nick, BrokerForCommands::nick(c))) {
        BrokerForCommands::error(c, Errc::bad_request, "you have no reminder with that number (see /remind list)");
        return;
    }
    TextOut<300> out;
    out << "Reminder " << std::uint64_t{r.number} << " cancelled: " << std::string_view(r.text, r.text_len);
    r = Reminder{};
    BrokerForCommands::save(c.b, RecordTable::reminders, static_cast<std::uint32_t>(v) - 1);
    BrokerForCommands::answer_private(c, out.view(), R"({"bot":"remind"})");
}

// The ms of the next local `minutes` after midnight, after `now`.
std::uint64_t next_local(Broker& b, std::uint64_t now, std::uint32_t minutes) {
    const std::int64_t off = std::int64_t{BrokerForCommands::utc_offset_min(b, now)} * 60000;
    const std::int64_t local = static_cast<std::int64_t>(now) + off;
    std::int64_t target = local - local % 86400000 + std::int64_t{minutes} * 60000;
    if (target <= local) target += 86400000;
    // The zone's offset at the target (summer time may start in between).
    const std::int64_t off2 = std::int64_t{BrokerForCommands::utc_offset_min(b, static_cast<std::uint64_t>(target - off))} * 60000;
    return static_cast<std::uint64_t>(target - off2);
}

} // namespace

void cmd_remind(Ctx& c) {
    std::string_view rest = c.args;
    const std::string_view verb = next_word(rest);
    if (verb == "list" && rest.empty()) return list(c);
    if (verb == "cancel") return cancel(c, rest);
    const std::string_view when = next_word(rest);
    const std::uint64_t now = BrokerForCommands::now(c.b);
    std::uint64_t due = 0;
    if (verb == "in") {
        std::uint64_t ms = 0;
        if (!parse_duration(when, ms)) {
            BrokerForCommands::error(c, Errc::bad_request, "usage: /remind in 10m TEXT (s, m, h, d; at most 30 days)");
            return;
        }
        due = now + ms;
    } else if (verb == "at") {
        std::uint32_t minutes = 0;
        if (!parse_clock(when, minutes)) {
            BrokerForCommands::error(c, Errc::bad_request, "usage: /remind at 18:30 TEXT (the broker's local time, 24 h)");
            return;
        }
        due = next_local(c.b, now, minutes);
    } else {
        BrokerForCommands::error(c, Errc::bad_request, kUsage);
        return;
    }
    if (rest.empty() || rest.size() > kBotText) {
        BrokerForCommands::error(c, rest.empty() ? Errc::bad_request : Errc::text_too_long,
                             rest.empty() ? "a reminder needs a text" : "a reminder's text is at most 200 bytes");
        return;
    }
    std::uint32_t n = 0, mine = 0, free_slot = kNone;
    Reminder* rs = BrokerForCommands::reminders(c.b, n);
    for (std::uint32_t i = 0; i < n; ++i) {
        if (rs[i].used) {
            mine += same_nick(rs[i].nick, BrokerForCommands::nick(c)) ? 1 : 0;
        } else if (free_slot == kNone) {
            free_slot = i;
        }
    }
    if (mine >= BrokerForCommands::limits(c.b).reminders_per_nick) {
        BrokerForCommands::error(c, Errc::server_busy, "you have as many reminders pending as one nick may (see /remind list)");
        return;
    }
    if (free_slot == kNone) {
        BrokerForCommands::error(c, Errc::server_busy, "the broker holds as many reminders as it may; try later");
        return;
    }
    Reminder& r = rs[free_slot];
    r = Reminder{};
    r.used = true;
    r.number = free_slot + 1;
    copy_str(r.nick, BrokerForCommands::nick(c));
    copy_str(r.room, BrokerForCommands::room_name(c.b, c.ri));
    r.due_ms = due;
    r.text_len = static_cast<std::uint16_t>(rest.size());
    for (std::size_t i = 0; i < rest.size(); ++i) r.text[i] = rest[i];
    BrokerForCommands::save(c.b, RecordTable::reminders, free_slot);
    BrokerForCommands::wake_sweep(c.b);
    char at[32];
    TextOut<400> out;
    out << "Reminder " << std::uint64_t{r.number} << " set for "
        << format_local(due, now, BrokerForCommands::utc_offset_min(c.b, due), at) << " (in "
        << (due - now + 59999) / 60000 << " min): " << rest;
    BrokerForCommands::answer_private(c, out.view(), R"({"bot":"remind"})");
}

bool remind_sweep(Broker& b, std::uint64_t now) {
    std::uint32_t n = 0;
    Reminder* rs = BrokerForCommands::reminders(b, n);
    bool pending = false;
    for (std::uint32_t i = 0; i < n; ++i) {
        Reminder& r = rs[i];
        if (!r.used) continue;
        if (r.due_ms > now) {
            pending = true;
            continue;
        }
        const std::string_view text(r.text, r.text_len);
        const std::uint32_t ri = BrokerForCommands::room_slot(b, r.room);
        if (ri != kNone) {
            TextOut<400> room_text;
            room_text << "⏰ Reminder for " << r.nick << ": " << text;
            (void)BrokerForCommands::bot_say(b, ri, room_text.view(), R"({"bot":"remind"})");
        }
        TextOut<400> dm_text;
        dm_text << "⏰ Reminder (set in #" << r.room << "): " << text;
        (void)BrokerForCommands::bot_dm(b, r.nick, dm_text.view(), R"({"bot":"remind"})");
        r = Reminder{};
        BrokerForCommands::save(b, RecordTable::reminders, i);
    }
    return pending;
}

} // namespace roost
