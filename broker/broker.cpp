// Broker construction (all memory reserved here), sessions, and the
// dispatch of decoded client commands.
#include "broker/broker.h"

#include "broker/commands.h"
#include "broker/names.h"
#include "broker/reserve.h"
#include "broker/version.h"

#include <cstdio>
#include <cstring>

namespace roost {

namespace {

std::uint32_t idx(SessionId s) { return s - 1; }

bool is_ready(const Session& s) { return s.state == SessionState::ready; }

} // namespace

Broker::Broker(const CoreLimits& limits, Clock& clock, Random& random, Transport& transport)
    : limits_(limits), clock_(clock), random_(random), transport_(transport), decoder_(limits),
      timers_(limits.max_timers), devices_(limits) {
    const CoreLimits& L = limits_;
    rooms_.resize(L.max_rooms);
    rings_.reserve(L.max_rooms);
    device_rings_.reserve(L.max_rooms);
    histories_.reserve(L.max_rooms);
    reads_.resize(std::size_t{L.max_rooms} * L.reads_per_room);
    for (std::uint32_t i = 0; i < L.max_rooms; ++i) {
        rings_.push_back(std::make_unique<RoomRing>(L.ring_msgs, L.ring_bytes, L.headroom));
        device_rings_.push_back(std::make_unique<RoomRing>(L.device_ring_msgs, device_ring_size(L), L.headroom));
        histories_.push_back(std::make_unique<RoomHistory>(*rings_.back(), *device_rings_.back()));
        rooms_[i].history = histories_.back().get();
        rooms_[i].reads = &reads_[std::size_t{i} * L.reads_per_room];
    }
    sessions_.resize(L.max_sessions);
    subs_ = ZeroTable<Subscription>(std::size_t{L.max_sessions} * L.rooms_per_session);
    // The big byte tables are default-initialized: their pages stay out of
    // RSS until a session or nick first writes them (reserved, bounded, and
    // resident only as far as used). Their contents are read only up to the
    // lengths kept beside them.
    control_size_ = std::size_t{L.max_sessions} * L.control_bytes;
    control_.reset(new char[control_size_]);
    for (std::uint32_t i = 0; i < L.max_sessions; ++i) {
        sessions_[i].first_sub = i * L.rooms_per_session;
        sessions_[i].control = &control_[std::size_t{i} * L.control_bytes];
    }
    nicks_.resize(L.max_nicks);
    keys_size_ = std::size_t{L.max_nicks} * L.max_key;
    keys_.reset(new char[keys_size_]);
    for (std::uint32_t i = 0; i < L.max_nicks; ++i) {
        nicks_[i].key = &keys_[std::size_t{i} * L.max_key];
    }
    encode_.resize(static_cast<std::size_t>(max_event_bytes(L)));
    device_buf_.resize(device_record_size(L));
    frame_.resize(static_cast<std::size_t>(frame_buffer_bytes(L)));
    reserved_ = static_cast<std::size_t>(total_bytes(core_reserve(L)));
    init_bots();
}

Broker::~Broker() = default;

std::string Broker::reserved_report() const {
    const CoreLimits& L = limits_;
    char buf[768];
    std::snprintf(buf, sizeof buf,
                  "reserved %.1f MiB: %u rooms x %u KiB ring (%u messages) + %u KiB of readings (%u), %u sessions x "
                  "%u KiB control, %u nicks, %u read receipts per room, %u timers; devices: %.1f MiB for %u devices "
                  "x %u keys, %u series x %u buckets (%u archives, the longest %llu days)",
                  static_cast<double>(reserved_) / (1024.0 * 1024.0), L.max_rooms, L.ring_bytes / 1024, L.ring_msgs,
                  device_ring_size(L) / 1024, L.device_ring_msgs, L.max_sessions, L.control_bytes / 1024, L.max_nicks,
                  L.reads_per_room, L.max_timers,
                  static_cast<double>(DeviceStore::reserved_bytes(L)) / (1024.0 * 1024.0), L.max_devices,
                  L.keys_per_device, L.max_series, L.archives.buckets(), L.archives.n,
                  static_cast<unsigned long long>(L.archives.span_ms() / 86400000));
    return buf;
}

SessionId Broker::open_session(const std::uint8_t addr[16]) {
    for (std::uint32_t i = 0; i < sessions_.size(); ++i) {
        Session& s = sessions_[i];
        if (s.state != SessionState::free) {
            continue;
        }
        const std::uint32_t first_sub = s.first_sub;
        char* control = s.control;
        s = Session{};
        s.first_sub = first_sub;
        s.control = control;
        s.state = SessionState::connected;
        std::memcpy(s.addr, addr, 16);
        ++sessions_open_;
        return i + 1;
    }
    return 0;
}

void Broker::close_session(SessionId id) {
    if (id == 0 || id > sessions_.size()) {
        return;
    }
    const std::uint32_t si = idx(id);
    Session& s = sessions_[si];
    if (s.state == SessionState::free) {
        return;
    }
    for (std::uint32_t k = 0; k < limits_.rooms_per_session; ++k) {
        if (subs_[s.first_sub + k].used) {
            unsubscribe(s.first_sub + k, false);
        }
    }
    if (s.nick != kNone) {
        Nick& n = nicks_[s.nick];
        n.connections--;
        if (n.connections == 0) {
            release_nick(s.nick);
        }
    }
    s.state = SessionState::free;
    s.nick = kNone;
    --sessions_open_;
}

void Broker::remap_grants(const std::vector<std::int32_t>& map) {
    for (Session& s : sessions_) {
        if (s.state == SessionState::free || s.grant < 0) continue;
        s.grant = static_cast<std::size_t>(s.grant) < map.size() ? map[static_cast<std::size_t>(s.grant)]
                                                                 : Authorizer::denied;
    }
}

void Broker::set_timer_handler(std::uint32_t kind, TimerHandler h) {
    if (kind < kTimerKinds) {
        timer_handlers_[kind] = h;
    }
}

std::uint32_t Broker::add_timer(std::uint64_t delay_ms, std::uint32_t kind, std::uint64_t arg) {
    if (kind >= kTimerKinds) {
        return 0;
    }
    return timers_.add(clock_.now_ms() + delay_ms, kind, arg);
}

void Broker::tick() {
    Timer t{};
    const std::uint64_t now = clock_.now_ms();
    while (timers_.pop_due(now, t)) {
        if (timer_handlers_[t.kind] != nullptr) {
            timer_handlers_[t.kind](*this, t.arg);
        }
    }
}

void Broker::on_frame(SessionId id, const char* data, std::size_t len) {
    if (id == 0 || id > sessions_.size()) {
        return;
    }
    const std::uint32_t si = idx(id);
    Session& s = sessions_[si];
    if (s.state == SessionState::free || s.state == SessionState::closing) {
        return; // frames after a close decision are ignored
    }
    ++stats_.frames_in;
    Command c;
    DecodeError err;
    const Errc e = decoder_.decode(data, len, c, err);
    if (e != Errc::ok) {
        client_error(si, e, err.message, err.ref);
        return;
    }
    if (s.state == SessionState::connected && c.type != CommandType::hello) {
        client_error(si, Errc::bad_request, "the first frame must be hello", "");
        return;
    }
    handle(si, c);
}

void Broker::handle(std::uint32_t si, const Command& c) {
    switch (c.type) {
    case CommandType::hello: on_hello(si, c); return;
    case CommandType::join: on_join(si, c); return;
    case CommandType::leave: on_leave(si, c); return;
    case CommandType::say: on_say(si, c); return;
    case CommandType::dm: on_dm(si, c); return;
    case CommandType::typing: on_typing(si, c); return;
    case CommandType::read: on_read(si, c); return;
    case CommandType::ping: {
        JsonWriter w(encode_.data(), encode_.size());
        encode_pong(w);
        reply(si, {encode_.data(), w.size()});
        return;
    }
    }
}

void Broker::client_error(std::uint32_t si, Errc e, std::string_view message, std::string_view ref) {
    ++stats_.client_errors;
    if (e == Errc::rate_limited) {
        ++stats_.rate_limited;
    }
    Session& s = sessions_[si];
    JsonWriter w(encode_.data(), encode_.size());
    encode_error(w, errc_code(e), message, ref);
    reply(si, {encode_.data(), w.size()});
    if (s.errors.note_error(clock_.now_ms(), limits_.error_limit)) {
        ++stats_.closed_abuse;
        begin_close(si, CloseCode::policy, "too many errors");
    }
}

void Broker::on_hello(std::uint32_t si, const Command& c) {
    Session& s = sessions_[si];
    if (s.state != SessionState::connected) {
        client_error(si, Errc::bad_request, "hello was already said", "hello");
        return;
    }
    s.grant = auth_ != nullptr ? auth_->grant(c.token) : 0;
    if (s.grant == Authorizer::denied) {
        client_error(si, Errc::unauthorized, c.token.empty() ? "a token is required" : "wrong token", "hello");
        begin_close(si, CloseCode::policy, "unauthorized");
        return;
    }
    Errc err = Errc::ok;
    const std::uint32_t ni = claim_nick(c.nick, c.key, err);
    if (ni == kNone) {
        client_error(si, err, err == Errc::nick_taken ? "that nick is owned by another key" : "too many nicks",
                     "hello");
        return;
    }
    s.nick = ni;
    nicks_[ni].connections++;
    s.state = SessionState::ready;
    s.welcome_pending = true;
    wake(si);
    // Direct-message rooms of this nick: joined automatically while online.
    for (std::uint32_t ri = 0; ri < rooms_.size(); ++ri) {
        const Room& r = rooms_[ri];
        if (r.used && r.dm && (r.dm_a.view() == nicks_[ni].lower.view() || r.dm_b.view() == nicks_[ni].lower.view())) {
            Errc e = Errc::ok;
            (void)subscribe(si, ri, nullptr, e);
        }
    }
}

void Broker::on_join(std::uint32_t si, const Command& c) {
    std::uint32_t ri = room_index(c.room);
    Errc err = Errc::ok;
    DmNicks dm;
    const bool is_dm = parse_dm_room_name(c.room, dm);
    if (is_dm) {
        const std::string_view me = nicks_[sessions_[si].nick].lower.view();
        if (dm.a != me && dm.b != me) {
            client_error(si, Errc::forbidden, "a direct-message room is only for its two parties", c.room);
            return;
        }
    } else if (auth_ != nullptr && !auth_->allows(sessions_[si].grant, c.room, false)) {
        client_error(si, Errc::forbidden, "this token may not read that room", c.room);
        return;
    }
    if (ri == kNone) {
        ri = create_room(c.room, err);
        if (ri == kNone) {
            client_error(si, err, "no room left: every room is in use", c.room);
            return;
        }
    }
    if (subscribe(si, ri, &c, err) == kNone) {
        client_error(si, err, "this session is in too many rooms", c.room);
    }
}

void Broker::on_leave(std::uint32_t si, const Command& c) {
    const std::uint32_t ri = room_index(c.room);
    const std::uint32_t sub = ri == kNone ? kNone : find_sub(si, ri);
    if (sub == kNone) {
        client_error(si, Errc::not_joined, "not a member of that room", c.room);
        return;
    }
    unsubscribe(sub, true);
}

void Broker::on_say(std::uint32_t si, const Command& c) {
    const std::uint32_t ri = room_index(c.room);
    if (ri == kNone || find_sub(si, ri) == kNone) {
        client_error(si, Errc::not_joined, "join the room first", c.cid.empty() ? std::string_view("say") : c.cid);
        return;
    }
    Session& s = sessions_[si];
    if (auth_ != nullptr && c.room.front() != '@' && !auth_->allows(s.grant, c.room, true)) {
        client_error(si, Errc::forbidden, "this token may not write in that room",
                     c.cid.empty() ? std::string_view("say") : c.cid);
        return;
    }
    if (!s.msg_bucket.take(clock_.now_ms(), limits_.msg_rate, limits_.msg_burst)) {
        client_error(si, Errc::rate_limited, "slow down", c.cid.empty() ? std::string_view("say") : c.cid);
        return;
    }
    if (!c.text.empty() && c.text[0] == '/') {
        CommandRouter::run(*this, si, ri, c.text, c.cid);
        return;
    }
    PostResult r;
    const Errc e = store(ri, nicks_[s.nick].display.view(), MsgKind::chat, c.text, c.data_json, c.cid, r);
    if (e != Errc::ok) {
        client_error(si, e, "message not stored", c.cid.empty() ? std::string_view("say") : c.cid);
        return;
    }
    JsonWriter w(encode_.data(), encode_.size());
    encode_ack(w, c.cid, rooms_[ri].name.view(), r.seq);
    reply(si, {encode_.data(), w.size()});
}

void Broker::on_dm(std::uint32_t si, const Command& c) {
    Session& s = sessions_[si];
    const std::string_view ref = c.cid.empty() ? std::string_view("dm") : c.cid;
    char name_buf[kAnyRoomNameMax + 1];
    const std::string_view me = nicks_[s.nick].lower.view();
    const std::string_view room = dm_room_name(me, c.to, name_buf, sizeof name_buf);
    if (room.empty() || nick_equal(me, c.to)) {
        client_error(si, Errc::bad_request, "to: cannot send a direct message to yourself", ref);
        return;
    }
    if (!s.msg_bucket.take(clock_.now_ms(), limits_.msg_rate, limits_.msg_burst)) {
        client_error(si, Errc::rate_limited, "slow down", ref);
        return;
    }
    Errc err = Errc::ok;
    std::uint32_t ri = room_index(room);
    if (ri == kNone) {
        ri = create_room(room, err);
        if (ri == kNone) {
            client_error(si, err, "no room left for a direct message", ref);
            return;
        }
    }
    // Both parties' online sessions join the room (each gets `joined` first).
    char other_lower[kNickMax + 1];
    const std::string_view other = fold_nick(c.to, other_lower, sizeof other_lower);
    for (std::uint32_t k = 0; k < sessions_.size(); ++k) {
        const Session& t = sessions_[k];
        if (!is_ready(t) || t.nick == kNone) {
            continue;
        }
        const std::string_view tn = nicks_[t.nick].lower.view();
        if ((tn == me || tn == other) && find_sub(k, ri) == kNone) {
            Errc e = Errc::ok;
            (void)subscribe(k, ri, nullptr, e);
        }
    }
    PostResult r;
    const Errc e = store(ri, nicks_[s.nick].display.view(), MsgKind::chat, c.text, c.data_json, c.cid, r);
    if (e != Errc::ok) {
        client_error(si, e, "message not stored", ref);
        return;
    }
    JsonWriter w(encode_.data(), encode_.size());
    encode_ack(w, c.cid, room, r.seq);
    reply(si, {encode_.data(), w.size()});
}

void Broker::on_typing(std::uint32_t si, const Command& c) {
    const std::uint32_t ri = room_index(c.room);
    if (ri == kNone || find_sub(si, ri) == kNone) {
        client_error(si, Errc::not_joined, "join the room first", "typing");
        return;
    }
    Session& s = sessions_[si];
    if (!s.typing_bucket.take(clock_.now_ms(), limits_.typing_rate, limits_.typing_burst)) {
        ++stats_.typing_dropped; // rate-limited silently, as the contract says
        return;
    }
    JsonWriter w(encode_.data(), encode_.size());
    encode_typing(w, rooms_[ri].name.view(), nicks_[s.nick].display.view(), c.on);
    queue_to_room(ri, {encode_.data(), w.size()}, s.nick, Droppable::typing);
}

void Broker::on_read(std::uint32_t si, const Command& c) {
    const std::uint32_t ri = room_index(c.room);
    if (ri == kNone) {
        client_error(si, Errc::no_such_room, "no such room", "read");
        return;
    }
    if (find_sub(si, ri) == kNone) {
        client_error(si, Errc::not_joined, "join the room first", "read");
        return;
    }
    Room& r = rooms_[ri];
    if (c.seq > r.history->head()) {
        client_error(si, Errc::bad_request, "seq: beyond the room's head", "read");
        return;
    }
    const std::string_view nick = nicks_[sessions_[si].nick].display.view();
    note_read(ri, nick, c.seq);
}

} // namespace roost
