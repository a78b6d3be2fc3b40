// The bots' plumbing: how a command answers (publicly in its room, or
// privately in the sayer's direct-message room with the bot), the bots'
// tables, their journal records and the one sweep timer.
#include "broker/broker.h"

#include "broker/commands.h"
#include "broker/json_writer.h"
#include "broker/names.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace roost {

namespace {

constexpr std::uint32_t kSweepKind = Broker::kTimerKinds - 1;
constexpr std::uint64_t kSweepMs = 1000;

void sweep(Broker& b, std::uint64_t) {
    CommandAccess::run_sweep(b);
}

} // namespace

std::string_view next_word(std::string_view& s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    const std::size_t sp = s.find(' ');
    const std::string_view w = s.substr(0, sp);
    s.remove_prefix(sp == std::string_view::npos ? s.size() : sp);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return w;
}

bool parse_duration(std::string_view s, std::uint64_t& ms) {
    std::uint64_t total = 0;
    if (s.empty()) return false;
    while (!s.empty()) {
        std::uint64_t v = 0;
        std::size_t digits = 0;
        while (!s.empty() && s.front() >= '0' && s.front() <= '9' && digits < 7) {
            v = v * 10 + static_cast<std::uint64_t>(s.front() - '0');
            s.remove_prefix(1);
            ++digits;
        }
        if (digits == 0 || s.empty()) return false;
        const char unit = s.front();
        s.remove_prefix(1);
        const std::uint64_t mul = unit == 's' ? 1000 : unit == 'm' ? 60000 : unit == 'h' ? 3600000 : unit == 'd' ? 86400000 : 0;
        if (mul == 0) return false;
        total += v * mul;
    }
    if (total == 0 || total > 30ull * 86400000) return false;
    ms = total;
    return true;
}

bool parse_clock(std::string_view s, std::uint32_t& minutes) {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() != colon + 3) return false;
    std::uint32_t h = 0, m = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == colon) continue;
        if (s[i] < '0' || s[i] > '9') return false;
        (i < colon ? h : m) = (i < colon ? h : m) * 10 + static_cast<std::uint32_t>(s[i] - '0');
    }
    if (h > 23 || m > 59) return false;
    minutes = h * 60 + m;
    return true;
}

bool parse_number(std::string_view s, double& v) {
    char buf[32];
    if (s.empty() || s.size() >= sizeof buf) return false;
    for (char ch : s) {
        if (!((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E')) return false;
    }
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    char* end = nullptr;
    v = std::strtod(buf, &end);
    return end == buf + s.size() && std::isfinite(v);
}

std::string_view format_number(double v, char (&out)[32]) {
    const int n = std::snprintf(out, sizeof out, "%.6g", v);
    return {out, n > 0 ? static_cast<std::size_t>(n) : 0};
}

namespace {

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm).
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

} // namespace

std::string_view format_local(std::uint64_t ms, std::uint64_t now_ms, std::int32_t offset_min, char (&out)[32]) {
    const std::int64_t local = static_cast<std::int64_t>(ms) + std::int64_t{offset_min} * 60000;
    const std::int64_t now_local = static_cast<std::int64_t>(now_ms) + std::int64_t{offset_min} * 60000;
    const std::int64_t day = local / 86400000, minute = (local % 86400000) / 60000;
    int n = 0;
    if (day == now_local / 86400000) {
        n = std::snprintf(out, sizeof out, "%02d:%02d", static_cast<int>(minute / 60), static_cast<int>(minute % 60));
    } else {
        int y = 0;
        unsigned m = 0, d = 0;
        civil_from_days(day, y, m, d);
        n = std::snprintf(out, sizeof out, "%04d-%02u-%02u %02d:%02d", y, m, d, static_cast<int>(minute / 60),
                          static_cast<int>(minute % 60));
    }
    return {out, n > 0 ? static_cast<std::size_t>(n) : 0};
}

bool data_number(std::string_view j, std::string_view key, double& v) {
    // A flat object as the codec stores it: keys are nick-like (no escapes),
    // values numbers, strings or booleans.
    std::size_t i = 0;
    auto ws = [&] { while (i < j.size() && (j[i] == ' ' || j[i] == '\n' || j[i] == '\t' || j[i] == '\r')) ++i; };
    ws();
    if (i >= j.size() || j[i] != '{') return false;
    ++i;
    for (;;) {
        ws();
        if (i >= j.size() || j[i] != '"') return false;
        const std::size_t ks = ++i;
        while (i < j.size() && j[i] != '"') ++i;
        if (i >= j.size()) return false;
        const std::string_view k = j.substr(ks, i - ks);
        ++i;
        ws();
        if (i >= j.size() || j[i] != ':') return false;
        ++i;
        ws();
        const std::size_t vs = i;
        if (i < j.size() && j[i] == '"') {
            for (++i; i < j.size() && j[i] != '"'; ++i) {
                if (j[i] == '\\') ++i;
            }
            ++i;
        } else {
            while (i < j.size() && j[i] != ',' && j[i] != '}' && j[i] != ' ') ++i;
        }
        if (k == key) return parse_number(j.substr(vs, i - vs), v);
        ws();
        if (i >= j.size() || j[i] != ',') return false;
        ++i;
    }
}

void add_score(Score (&table)[kScoreRows], std::string_view nick, std::uint32_t points) {
    char a[kNickMax + 1], b[kNickMax + 1];
    const std::string_view me = fold_nick(nick, a, sizeof a);
    Score* low = nullptr;
    for (Score& s : table) {
        if (s.nick[0] != '\0' && fold_nick(s.nick, b, sizeof b) == me) {
            s.points += points;
            return;
        }
        if (low == nullptr || (low->nick[0] != '\0' && (s.nick[0] == '\0' || s.points < low->points))) low = &s;
    }
    if (low->nick[0] == '\0' || low->points < points) {
        copy_str(low->nick, nick);
        low->points = points;
    }
}

std::string_view scores_text(const Score (&table)[kScoreRows], char (&out)[256]) {
    const Score* order[kScoreRows];
    std::uint32_t n = 0;
    for (const Score& s : table) {
        if (s.nick[0] == '\0') continue;
        std::uint32_t k = n++;
        while (k > 0 && order[k - 1]->points < s.points) {
            order[k] = order[k - 1];
            --k;
        }
        order[k] = &s;
    }
    TextOut<256> t;
    for (std::uint32_t i = 0; i < n; ++i) t << (i ? ", " : "") << order[i]->nick << " " << std::uint64_t{order[i]->points};
    if (n == 0) t << "none yet";
    std::memcpy(out, t.buf, t.n);
    return {out, t.n};
}

void CommandAccess::answer(Ctx& c, MsgKind kind, std::string_view from, std::string_view text, std::string_view data) {
    PostResult r;
    Broker& b = c.b;
    const Errc e = b.store(c.ri, from, kind, text, data, kind == MsgKind::bot ? std::string_view() : c.cid, r);
    if (e != Errc::ok) {
        b.client_error(c.si, e, "command answer not stored", c.cid);
        return;
    }
    JsonWriter w(b.encode_.data(), b.encode_.size());
    encode_ack(w, c.cid, b.rooms_[c.ri].name.view(), r.seq);
    b.reply(c.si, {b.encode_.data(), w.size()});
}

void CommandAccess::answer_private(Ctx& c, std::string_view text, std::string_view data) {
    Broker& b = c.b;
    std::uint32_t ri = kNone;
    const Errc e = bot_dm(b, nick(c), text, data, &ri);
    if (e != Errc::ok) {
        b.client_error(c.si, e, "command answer not stored", c.cid.empty() ? std::string_view("say") : c.cid);
        return;
    }
    // The ack names where the answer was stored: the DM room with the bot.
    JsonWriter w(b.encode_.data(), b.encode_.size());
    encode_ack(w, c.cid, b.rooms_[ri].name.view(), b.rooms_[ri].history->head());
    b.reply(c.si, {b.encode_.data(), w.size()});
}

void CommandAccess::error(Ctx& c, Errc e, std::string_view message) {
    c.b.client_error(c.si, e, message, c.cid.empty() ? std::string_view("say") : c.cid);
}

std::string_view CommandAccess::nick(Ctx& c) { return c.b.nicks_[c.b.sessions_[c.si].nick].display.view(); }

Errc CommandAccess::bot_say(Broker& b, std::uint32_t ri, std::string_view text, std::string_view data) {
    PostResult r;
    return b.store(ri, CommandRouter::kBotName, MsgKind::bot, text, data, {}, r);
}

Errc CommandAccess::bot_dm(Broker& b, std::string_view nick, std::string_view text, std::string_view data,
                           std::uint32_t* room_out) {
    char name_buf[kAnyRoomNameMax + 1];
    const std::string_view room = dm_room_name(nick, CommandRouter::kBotName, name_buf, sizeof name_buf);
    if (room.empty()) return Errc::bad_request;
    Errc err = Errc::ok;
    std::uint32_t ri = b.room_index(room);
    if (ri == kNone && (ri = b.create_room(room, err)) == kNone) return err;
    char lower_buf[kNickMax + 1];
    const std::string_view lower = fold_nick(nick, lower_buf, sizeof lower_buf);
    for (std::uint32_t k = 0; k < b.sessions_.size(); ++k) {
        const Session& t = b.sessions_[k];
        if (t.state == SessionState::ready && t.nick != kNone && b.nicks_[t.nick].lower.view() == lower &&
            b.find_sub(k, ri) == kNone) {
            Errc e = Errc::ok;
            (void)b.subscribe(k, ri, nullptr, e);
        }
    }
    if (room_out != nullptr) *room_out = ri;
    return bot_say(b, ri, text, data);
}

Reminder* CommandAccess::reminders(Broker& b, std::uint32_t& count) {
    count = static_cast<std::uint32_t>(b.reminders_.size());
    return &b.reminders_[0];
}

Watch* CommandAccess::watches(Broker& b, std::uint32_t& count) {
    count = static_cast<std::uint32_t>(b.watches_.size());
    return &b.watches_[0];
}

RoomBots& CommandAccess::room_bots(Broker& b, std::uint32_t ri) {
    RoomBots& rb = b.room_bots_[ri];
    if (std::strcmp(rb.room, b.rooms_[ri].name.buf) != 0) { // first use, or a recycled slot
        rb = RoomBots{};
        std::memcpy(rb.room, b.rooms_[ri].name.buf, b.rooms_[ri].name.len + 1u);
    }
    return rb;
}

RoomBots* CommandAccess::games_of(Broker& b, std::uint32_t ri) {
    if (ri >= b.rooms_.size() || !b.rooms_[ri].used) return nullptr;
    RoomBots& rb = b.room_bots_[ri];
    return std::strcmp(rb.room, b.rooms_[ri].name.buf) == 0 ? &rb : nullptr;
}

std::uint32_t CommandAccess::room_slot(Broker& b, std::string_view lower_name) { return b.room_index(lower_name); }
std::string_view CommandAccess::room_name(Broker& b, std::uint32_t ri) { return b.rooms_[ri].name.view(); }
std::uint64_t CommandAccess::now(Broker& b) { return b.clock_.now_ms(); }
std::int32_t CommandAccess::utc_offset_min(Broker& b, std::uint64_t ms) { return b.clock_.utc_offset_min(ms); }
std::uint64_t CommandAccess::random(Broker& b) { return b.random_.next(); }
const CoreLimits& CommandAccess::limits(Broker& b) { return b.limits_; }

void CommandAccess::save(Broker& b, BotTable t, std::uint32_t index) {
    if (b.journal_ == nullptr) return;
    const void* p = t == BotTable::reminders ? static_cast<const void*>(&b.reminders_[index])
                    : t == BotTable::watches ? static_cast<const void*>(&b.watches_[index])
                    : t == BotTable::rooms   ? static_cast<const void*>(&b.room_bots_[index])
                                             : static_cast<const void*>(&b.bridge_marks_[index]);
    b.journal_->bot_saved(static_cast<std::uint32_t>(t), index,
                          {static_cast<const char*>(p), bot_record_size(t)});
}

// Runs every bot's timed work now; keeps the sweep ticking while any has
// something pending.
void CommandAccess::run_sweep(Broker& b) {
    b.sweep_timer_ = 0; // this one has fired
    const std::uint64_t now = b.clock_.now_ms();
    bool pending = remind_sweep(b, now);
    pending = hangman_sweep(b, now) || pending;
    pending = wordle_sweep(b, now) || pending;
    pending = watch_sweep(b, now) || pending;
    if (pending) wake_sweep(b);
}

void CommandAccess::wake_sweep(Broker& b) {
    if (b.sweep_timer_ == 0) {
        b.sweep_timer_ = b.add_timer(kSweepMs, kSweepKind, 0);
    }
}

void Broker::init_bots() {
    reminders_ = ZeroTable<Reminder>(limits_.max_reminders);
    watches_ = ZeroTable<Watch>(limits_.max_watches);
    room_bots_ = ZeroTable<RoomBots>(limits_.max_rooms);
    bridge_marks_ = ZeroTable<BridgeMark>(limits_.max_rooms);
    set_timer_handler(kSweepKind, sweep);
}

std::uint64_t Broker::bots_reserve(const CoreLimits& l) {
    return std::uint64_t{l.max_reminders} * sizeof(Reminder) + std::uint64_t{l.max_watches} * sizeof(Watch) +
           std::uint64_t{l.max_rooms} * (sizeof(RoomBots) + sizeof(BridgeMark));
}

bool Broker::restore_bot(std::uint32_t table, std::uint32_t index, std::string_view bytes) {
    if (table >= kBotTables || bytes.size() != bot_record_size(static_cast<BotTable>(table))) return false;
    switch (static_cast<BotTable>(table)) {
    case BotTable::reminders:
        if (index >= reminders_.size()) return false;
        std::memcpy(&reminders_[index], bytes.data(), bytes.size());
        break;
    case BotTable::watches:
        if (index >= watches_.size()) return false;
        std::memcpy(&watches_[index], bytes.data(), bytes.size());
        break;
    case BotTable::bridge:
        if (index >= bridge_marks_.size() || !rooms_[index].used) return false;
        std::memcpy(&bridge_marks_[index], bytes.data(), bytes.size());
        break;
    case BotTable::rooms: {
        if (index >= room_bots_.size() || !rooms_[index].used) return false;
        RoomBots rb;
        std::memcpy(&rb, bytes.data(), bytes.size());
        if (std::strncmp(rb.room, rooms_[index].name.buf, sizeof rb.room) != 0) return false; // another room's
        room_bots_[index] = rb;
        break;
    }
    }
    return true;
}

void Broker::start_bots() { CommandAccess::wake_sweep(*this); }

} // namespace roost
