// The room, nick and subscription tables: lookups, creation, recycling,
// membership (with presence) and storing a message into a room's ring.
//
// Recycling: when a new room is needed and every slot is used, the room
// with no member that has been idle the longest (by its last message or
// membership change) is recycled: its history is dropped and it starts a new
// epoch under the new name. If every room has members, the request is
// refused with too_many_rooms.
#include "broker/broker.h"

#include "broker/commands.h"
#include "broker/names.h"

#include <cstring>

namespace roost {

namespace {

const RoomBots kNoRoomBots{};

// Constant-time comparison of two secrets.
bool same_secret(const char* a, std::size_t alen, std::string_view b) {
    if (alen != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < alen; ++i) {
        diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
    }
    return diff == 0;
}

} // namespace

std::uint32_t Broker::room_index(std::string_view lower_name) const {
    for (std::uint32_t i = 0; i < rooms_.size(); ++i) {
        if (rooms_[i].used && rooms_[i].name.view() == lower_name) {
            return i;
        }
    }
    return kNone;
}

const Room* Broker::find_room(std::string_view lower_name) const {
    const std::uint32_t i = room_index(lower_name);
    return i == kNone ? nullptr : &rooms_[i];
}

std::uint32_t Broker::room_count() const {
    std::uint32_t n = 0;
    for (const Room& r : rooms_) {
        n += r.used ? 1u : 0u;
    }
    return n;
}

std::uint32_t Broker::create_room(std::string_view lower_name, Errc& err) {
    std::uint32_t pick = kNone;
    for (std::uint32_t i = 0; i < rooms_.size(); ++i) {
        if (!rooms_[i].used) {
            pick = i;
            break;
        }
    }
    if (pick == kNone) {
        for (std::uint32_t i = 0; i < rooms_.size(); ++i) {
            const Room& r = rooms_[i];
            if (r.sessions == 0 && (pick == kNone || r.last_active_ms < rooms_[pick].last_active_ms)) {
                pick = i;
            }
        }
        if (pick == kNone) {
            err = Errc::too_many_rooms;
            return kNone;
        }
    }
    // A short random name for this history (base32, 40 bits).
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    char epoch[kEpochLen + 1];
    std::uint64_t v = random_.next();
    for (std::size_t i = 0; i < kEpochLen; ++i) {
        epoch[i] = kAlphabet[v & 31];
        v >>= 5;
    }
    epoch[kEpochLen] = '\0';
    if (journal_ != nullptr && journal_->room_started(pick, lower_name, {epoch, kEpochLen}) != Errc::ok) {
        ++stats_.disk_full;
        err = Errc::disk_full;
        return kNone;
    }
    if (rooms_[pick].used) {
        ++stats_.rooms_recycled;
    }
    start_history(pick, lower_name, {epoch, kEpochLen});
    rooms_[pick].last_active_ms = clock_.now_ms();
    if (std::memcmp(&room_bots_[pick], &kNoRoomBots, sizeof kNoRoomBots) != 0) {
        room_bots_[pick] = RoomBots{}; // a new history: no game, no scores
        BrokerForCommands::save(*this, RecordTable::rooms, pick);
    }
    return pick;
}

void Broker::start_history(std::uint32_t ri, std::string_view lower_name, std::string_view epoch) {
    Room& r = rooms_[ri];
    r.used = true;
    r.name.assign(lower_name);
    DmNicks dm;
    r.dm = parse_dm_room_name(lower_name, dm);
    r.dm_a.assign(r.dm ? dm.a : std::string_view());
    r.dm_b.assign(r.dm ? dm.b : std::string_view());
    std::memcpy(r.epoch, epoch.data(), kEpochLen);
    r.epoch[kEpochLen] = '\0';
    r.history->reset_to(0);
    forget_devices(ri); // a new history: its devices start over
    r.first_sub = kNone;
    r.sessions = 0;
    r.members = 0;
    r.last_active_ms = 0;
    for (std::uint32_t k = 0; k < limits_.reads_per_room; ++k) {
        r.reads[k] = ReadMark{};
    }
    if (ri < bridge_cursor_.size()) {
        bridge_cursor_[ri] = 1; // the bridge publishes a new history from its start
        for (std::uint32_t k = 0; k < kBridgeOrigins; ++k) bridge_seen_[std::size_t{ri} * kBridgeOrigins + k] = BridgeSeen{};
        if (bridge_covers(lower_name)) bridge_mark(ri, 1); // kept, should we restart before publishing
    }
}

std::uint32_t Broker::nick_index(std::string_view lower) const {
    for (std::uint32_t i = 0; i < nicks_.size(); ++i) {
        if (nicks_[i].used && nicks_[i].lower.view() == lower) {
            return i;
        }
    }
    return kNone;
}

std::uint32_t Broker::claim_nick(std::string_view display, std::string_view key, Errc& err) {
    char lower_buf[kNickMax + 1];
    const std::string_view lower = fold_nick(display, lower_buf, sizeof lower_buf);
    if (lower == CommandRouter::kBotName) {
        err = Errc::nick_taken; // the bots' name: nobody may speak (or read DMs) as them
        return kNone;
    }
    std::uint32_t ni = nick_index(lower);
    if (ni != kNone) {
        Nick& n = nicks_[ni];
        if (n.key_len > 0 && !same_secret(n.key, n.key_len, key)) {
            err = Errc::nick_taken;
            return kNone;
        }
        if (n.connections == 0) {
            n.display.assign(display); // shown as given by the latest owner
        }
        if (n.key_len == 0 && !key.empty()) {
            own_nick(ni, key);
        }
        return ni;
    }
    for (std::uint32_t i = 0; i < nicks_.size(); ++i) {
        if (!nicks_[i].used) {
            Nick& n = nicks_[i];
            n.used = true;
            n.display.assign(display);
            n.lower.assign(lower);
            n.connections = 0;
            n.key_len = 0;
            if (!key.empty()) {
                own_nick(i, key);
            }
            return i;
        }
    }
    err = Errc::server_busy;
    return kNone;
}

void Broker::own_nick(std::uint32_t ni, std::string_view key) {
    Nick& n = nicks_[ni];
    if (key.size() > limits_.max_key) {
        return;
    }
    std::memcpy(n.key, key.data(), key.size());
    n.key_len = static_cast<std::uint32_t>(key.size());
    if (journal_ != nullptr) {
        journal_->key_set(ni, n.display.view(), key);
    }
}

void Broker::release_nick(std::uint32_t ni) {
    Nick& n = nicks_[ni];
    if (n.connections == 0 && n.key_len == 0) {
        n.used = false; // a nick owned by a key stays reserved for its owner
    }
}

std::uint32_t Broker::find_sub(std::uint32_t si, std::uint32_t ri) const {
    const Session& s = sessions_[si];
    for (std::uint32_t k = 0; k < limits_.rooms_per_session; ++k) {
        const Subscription& sub = subs_[s.first_sub + k];
        if (sub.used && sub.room == ri) {
            return s.first_sub + k;
        }
    }
    return kNone;
}

bool Broker::nick_in_room(std::uint32_t ni, std::uint32_t ri, std::uint32_t except_sub) const {
    for (std::uint32_t k = rooms_[ri].first_sub; k != kNone; k = subs_[k].next) {
        if (k != except_sub && sessions_[subs_[k].session].nick == ni) {
            return true;
        }
    }
    return false;
}

std::uint32_t Broker::subscribe(std::uint32_t si, std::uint32_t ri, const Command* join, Errc& err) {
    Session& s = sessions_[si];
    Room& r = rooms_[ri];
    const RoomHistory& hist = *r.history;
    std::uint32_t sub = find_sub(si, ri);
    const bool fresh = sub == kNone;
    if (fresh) {
        for (std::uint32_t k = 0; k < limits_.rooms_per_session; ++k) {
            if (!subs_[s.first_sub + k].used) {
                sub = s.first_sub + k;
                break;
            }
        }
        if (sub == kNone) {
            err = Errc::too_many_rooms;
            return kNone;
        }
    }
    Subscription& x = subs_[sub];
    // Where the replay starts: exactly after `since` when it continues this
    // history, else the newest `backlog` messages.
    const std::uint64_t head = hist.head();
    const std::uint64_t oldest = hist.oldest();
    bool recovered = false;
    std::uint64_t start = 0;
    if (join != nullptr && join->has_since && join->since_epoch == std::string_view(r.epoch) &&
        join->since_seq + 1 >= oldest && join->since_seq <= head) {
        recovered = true;
        start = join->since_seq + 1;
    } else {
        const std::uint64_t backlog = join != nullptr && join->has_backlog ? join->backlog : limits_.backlog;
        // The newest `backlog` held, people's and readings', from people's
        // oldest at most: a cursor below it would be behind the ring.
        start = hist.nth_newest(backlog);
        if (start < oldest) {
            start = oldest;
        }
    }
    const bool first_of_nick = !nick_in_room(s.nick, ri, sub);
    if (fresh) {
        x = Subscription{};
        x.used = true;
        x.room = ri;
        x.session = si;
        x.prev = kNone;
        x.next = r.first_sub;
        if (r.first_sub != kNone) {
            subs_[r.first_sub].prev = sub;
        }
        r.first_sub = sub;
        r.sessions++;
        r.last_active_ms = clock_.now_ms();
    }
    x.next_seq = start;
    x.recovered = recovered;
    x.joined_pending = true;
    x.join_order = ++join_counter_;
    wake(si);
    if (fresh && first_of_nick) {
        r.members++;
        JsonWriter w(encode_.data(), encode_.size());
        encode_presence(w, r.name.view(), nicks_[s.nick].display.view(), true);
        queue_to_room(ri, {encode_.data(), w.size()}, s.nick);
    }
    return sub;
}

void Broker::unsubscribe(std::uint32_t sub, bool send_left) {
    Subscription& x = subs_[sub];
    const std::uint32_t ri = x.room;
    const std::uint32_t si = x.session;
    Room& r = rooms_[ri];
    if (x.prev != kNone) {
        subs_[x.prev].next = x.next;
    } else {
        r.first_sub = x.next;
    }
    if (x.next != kNone) {
        subs_[x.next].prev = x.prev;
    }
    x = Subscription{};
    r.sessions--;
    r.last_active_ms = clock_.now_ms();
    const std::uint32_t ni = sessions_[si].nick;
    if (send_left) {
        JsonWriter w(encode_.data(), encode_.size());
        encode_left(w, r.name.view());
        reply(si, {encode_.data(), w.size()});
    }
    if (ni != kNone && !nick_in_room(ni, ri, kNone)) {
        r.members--;
        JsonWriter w(encode_.data(), encode_.size());
        encode_presence(w, r.name.view(), nicks_[ni].display.view(), false);
        queue_to_room(ri, {encode_.data(), w.size()}, ni);
    }
}

Errc Broker::store(std::uint32_t ri, std::string_view from, MsgKind kind, std::string_view text,
                   std::string_view data_json, std::string_view cid, PostResult& out, std::string_view origin) {
    Room& r = rooms_[ri];
    RoomHistory& hist = *r.history;
    out.epoch = std::string_view(r.epoch, kEpochLen);
    std::uint64_t cid_key = 0;
    if (!cid.empty()) {
        char lower_buf[kNickMax + 1];
        cid_key = hash_cid(fold_nick(from, lower_buf, sizeof lower_buf), cid);
        const std::uint64_t seen = hist.find_cid(cid_key);
        if (seen != 0) {
            out.seq = seen;
            out.ts = hist.meta(seen)->ts;
            out.duplicate = true;
            return Errc::ok;
        }
    }
    // A reading is a device's message with `data`: it goes to the room's
    // device ring and the device store, and must fit the store's tables
    // before anything is stored (a refusal changes nothing). A device's
    // message of text alone is kept with people's (a script saying "backup
    // done" is read like a person's line) and only keeps a device the store
    // already knows from going quiet.
    const bool reading = kind == MsgKind::device && !data_json.empty();
    if (reading) {
        const Errc e = check_reading(ri, from, data_json, out.why);
        if (e != Errc::ok) return e;
    }
    const bool tracked = reading || (kind == MsgKind::device && devices_.find(ri, from) != kNone);
    const std::uint64_t ts = clock_.now_ms();
    const std::uint64_t seq = hist.head() + 1;
    const HistoryClass cls = reading ? HistoryClass::devices : HistoryClass::people;
    JsonWriter w(encode_.data(), encode_.size());
    encode_msg(w, r.name.view(), seq, ts, from, kind, text, data_json, cid, origin);
    if (!w.ok()) {
        return Errc::text_too_long;
    }
    const EntryMeta meta{ts, cid_key, !origin.empty()};
    if (journal_ != nullptr && journal_->appended(ri, cls, seq, meta, {encode_.data(), w.size()}) != Errc::ok) {
        ++stats_.disk_full;
        return Errc::disk_full;
    }
    const std::uint64_t got = hist.append(cls, encode_.data(), static_cast<std::uint32_t>(w.size()), meta);
    if (got != seq) {
        return Errc::server_busy;
    }
    r.last_active_ms = ts;
    out.seq = seq;
    out.ts = ts;
    out.duplicate = false;
    after_append(ri);
    transport_.stored(ri);
    const std::uint32_t di = tracked ? took_reading(ri, from, ts, data_json) : kNone;
    if (reading) watch_device(*this, ri, from, di, data_json); // may store an alert (a bot message) after it
    return Errc::ok;
}

Errc Broker::post(std::string_view room, std::string_view from, MsgKind kind, std::string_view text,
                  std::string_view data_json, std::string_view cid, PostResult& out) {
    std::uint32_t ri = room_index(room);
    Errc err = Errc::ok;
    if (ri == kNone) {
        if (room.empty() || room[0] == '@') {
            return Errc::forbidden;
        }
        // A reading the store would refuse must not leave a new, empty room.
        if (kind == MsgKind::device && !data_json.empty()) {
            err = check_reading(kNone, from, data_json, out.why);
            if (err != Errc::ok) return err;
        }
        ri = create_room(room, err);
        if (ri == kNone) {
            return err;
        }
    }
    if (rooms_[ri].dm) {
        return Errc::forbidden;
    }
    return store(ri, from, kind, text, data_json, cid, out);
}

void Broker::note_read(std::uint32_t ri, std::string_view nick, std::uint64_t seq) {
    Room& r = rooms_[ri];
    // The nick's mark; else a free one; else the one furthest behind.
    ReadMark* slot = nullptr;
    ReadMark* spare = nullptr;
    for (std::uint32_t k = 0; k < limits_.reads_per_room && slot == nullptr; ++k) {
        ReadMark& m = r.reads[k];
        if (m.nick.empty()) {
            if (spare == nullptr || !spare->nick.empty()) spare = &m;
        } else if (m.nick.view() == nick) {
            slot = &m;
        } else if (spare == nullptr || (!spare->nick.empty() && m.seq < spare->seq)) {
            spare = &m;
        }
    }
    if (slot == nullptr) {
        slot = spare;
        slot->nick.assign(nick);
        slot->seq = 0;
    }
    if (seq <= slot->seq) {
        return; // a receipt keeps the largest seq reported
    }
    slot->seq = seq;
    if (journal_ != nullptr) {
        journal_->read_set(ri, static_cast<std::uint32_t>(slot - r.reads), slot->nick.view(), seq);
    }
    JsonWriter w(encode_.data(), encode_.size());
    encode_read(w, r.name.view(), nick, seq);
    char lower_buf[kNickMax + 1];
    // Best effort, like typing: in a busy room every member reads at once,
    // and the marks themselves are kept (joined.reads has them all).
    queue_to_room(ri, {encode_.data(), w.size()}, nick_index(fold_nick(nick, lower_buf, sizeof lower_buf)),
                  Droppable::read);
}

} // namespace roost
