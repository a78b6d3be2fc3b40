// The bots' plumbing: how a command answers (publicly in its room, or
// privately in the sayer's direct-message room with the bot), the bots'
// tables, their journal records and the one sweep timer.
#include "broker/broker.h"
#include "broker/bot_records.h"

#include "broker/commands.h"
#include "broker/json_writer.h"
#include "broker/names.h"

#include <cstring>

namespace roost {

namespace {

constexpr std::uint32_t kSweepKind = Broker::kTimerKinds - 1;
constexpr std::uint64_t kSweepMs = 1000;

void sweep(Broker& b, std::uint64_t) {
    BrokerForCommands::run_sweep(b);
}

} // namespace

void BrokerForCommands::answer(Ctx& c, MsgKind kind, std::string_view from, std::string_view text, std::string_view data) {
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

void BrokerForCommands::answer_private(Ctx& c, std::string_view text, std::string_view data) {
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

void BrokerForCommands::error(Ctx& c, Errc e, std::string_view message) {
    c.b.client_error(c.si, e, message, c.cid.empty() ? std::string_view("say") : c.cid);
}

std::string_view BrokerForCommands::nick(Ctx& c) { return c.b.nicks_[c.b.sessions_[c.si].nick].display.view(); }

Errc BrokerForCommands::bot_say(Broker& b, std::uint32_t ri, std::string_view text, std::string_view data) {
    PostResult r;
    return b.store(ri, CommandRouter::kBotName, MsgKind::bot, text, data, {}, r);
}

Errc BrokerForCommands::bot_dm(Broker& b, std::string_view nick, std::string_view text, std::string_view data,
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

Reminder* BrokerForCommands::reminders(Broker& b, std::uint32_t& count) {
    count = static_cast<std::uint32_t>(b.reminders_.size());
    return &b.reminders_[0];
}

Watch* BrokerForCommands::watches(Broker& b, std::uint32_t& count) {
    count = static_cast<std::uint32_t>(b.watches_.size());
    return &b.watches_[0];
}

RoomBots& BrokerForCommands::room_bots(Broker& b, std::uint32_t ri) {
    RoomBots& rb = b.room_bots_[ri];
    if (std::strcmp(rb.room, b.rooms_[ri].name.buf) != 0) { // first use, or a recycled slot
        rb = RoomBots{};
        std::memcpy(rb.room, b.rooms_[ri].name.buf, b.rooms_[ri].name.len + 1u);
    }
    return rb;
}

RoomBots* BrokerForCommands::games_of(Broker& b, std::uint32_t ri) {
    if (ri >= b.rooms_.size() || !b.rooms_[ri].used) return nullptr;
    RoomBots& rb = b.room_bots_[ri];
    return std::strcmp(rb.room, b.rooms_[ri].name.buf) == 0 ? &rb : nullptr;
}

std::uint32_t BrokerForCommands::room_slot(Broker& b, std::string_view lower_name) { return b.room_index(lower_name); }
std::string_view BrokerForCommands::room_name(Broker& b, std::uint32_t ri) { return b.rooms_[ri].name.view(); }
std::uint64_t BrokerForCommands::now(Broker& b) { return b.clock_.now_ms(); }
std::int32_t BrokerForCommands::utc_offset_min(Broker& b, std::uint64_t ms) { return b.clock_.utc_offset_min(ms); }
std::uint64_t BrokerForCommands::random(Broker& b) { return b.random_.next(); }
const CoreLimits& BrokerForCommands::limits(Broker& b) { return b.limits_; }

void BrokerForCommands::save(Broker& b, RecordTable t, std::uint32_t index) {
    if (b.journal_ == nullptr) return;
    const void* p = t == RecordTable::reminders ? static_cast<const void*>(&b.reminders_[index])
                    : t == RecordTable::watches ? static_cast<const void*>(&b.watches_[index])
                    : t == RecordTable::rooms   ? static_cast<const void*>(&b.room_bots_[index])
                                             : static_cast<const void*>(&b.bridge_marks_[index]);
    b.journal_->record_saved(static_cast<std::uint32_t>(t), index,
                          {static_cast<const char*>(p), record_size(t)});
}

// Runs every bot's timed work now; keeps the sweep ticking while any has
// something pending.
void BrokerForCommands::run_sweep(Broker& b) {
    b.sweep_timer_ = 0; // this one has fired
    const std::uint64_t now = b.clock_.now_ms();
    bool pending = remind_sweep(b, now);
    pending = hangman_sweep(b, now) || pending;
    pending = wordle_sweep(b, now) || pending;
    pending = watch_sweep(b, now) || pending;
    pending = b.sweep_devices(now) || pending;
    if (pending) wake_sweep(b);
}

void BrokerForCommands::wake_sweep(Broker& b) {
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

bool Broker::restore_record(std::uint32_t table, std::uint32_t index, std::string_view bytes) {
    if (table >= kRecordTables || !record_valid(static_cast<RecordTable>(table), bytes)) return false;
    switch (static_cast<RecordTable>(table)) {
    case RecordTable::reminders:
        if (index >= reminders_.size()) return false;
        std::memcpy(&reminders_[index], bytes.data(), bytes.size());
        break;
    case RecordTable::watches:
        if (index >= watches_.size()) return false;
        std::memcpy(&watches_[index], bytes.data(), bytes.size());
        break;
    case RecordTable::bridge:
        if (index >= bridge_marks_.size() || !rooms_[index].used) return false;
        std::memcpy(&bridge_marks_[index], bytes.data(), bytes.size());
        break;
    case RecordTable::rooms: {
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

void Broker::start_bots() { BrokerForCommands::wake_sweep(*this); }

} // namespace roost
