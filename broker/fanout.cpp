// Fan-out: per-session queued events, the frames a session writes, and the
// culling of sessions that fall behind.
//
// A session's pending output is, in the order it is written:
//   1. `welcome` (generated when written),
//   2. `joined` for each new subscription, in join order (generated),
//   3. small events queued in the session's control buffer,
//   4. messages from the rings, from each subscription's cursor.
// One pending message alone goes out straight from the ring (no copy).
// Anything more is packed into one JSON array of at most batch_bytes in
// the broker's single frame buffer (there is one event loop, and the
// platform writes the frame before calling the broker again).
//
//   ring:   oldest ............ cursor ........ head
//                               └─ next to send ─┘   pending = head - cursor + 1
//   append evicts oldest past a cursor  ==>  that session is culled (4008)
#include "broker/broker.h"

#include "broker/reserve.h"

#include <cstring>

namespace roost {

namespace {

// The control buffer holds events as [2-byte length][bytes].
constexpr std::uint32_t kLenBytes = 2;

} // namespace

void Broker::wake(std::uint32_t si) { transport_.wake(si + 1); }

bool Broker::queue(std::uint32_t si, std::string_view ev) {
    Session& s = sessions_[si];
    if (s.state == SessionState::free || ev.empty()) {
        return false;
    }
    if (s.control_len + kLenBytes + ev.size() > limits_.control_bytes || ev.size() > 0xffff) {
        return false;
    }
    char* p = s.control + s.control_len;
    p[0] = static_cast<char>(ev.size() & 0xff);
    p[1] = static_cast<char>(ev.size() >> 8);
    std::memcpy(p + kLenBytes, ev.data(), ev.size());
    s.control_len += static_cast<std::uint32_t>(kLenBytes + ev.size());
    s.control_events++;
    wake(si);
    return true;
}

void Broker::reply(std::uint32_t si, std::string_view ev) {
    if (!queue(si, ev) && sessions_[si].state == SessionState::ready) {
        // Cannot happen while the platform paces reading by can_take_frame;
        // if it does, the client must hear that its answer is missing.
        ++stats_.culled_slow;
        begin_close(si, CloseCode::slow_consumer, "answers piling up; reconnect and retry with the same cid");
    }
}

bool Broker::can_take_frame(SessionId id) const {
    if (id == 0 || id > sessions_.size()) return false;
    const Session& s = sessions_[id - 1];
    return s.control_len + reply_reserve_bytes(limits_) <= limits_.control_bytes;
}

bool Broker::said_hello(SessionId id) const {
    if (id == 0 || id > sessions_.size()) return false;
    const SessionState st = sessions_[id - 1].state;
    return st == SessionState::ready || (st == SessionState::closing && sessions_[id - 1].nick != kNone);
}

void Broker::queue_to_room(std::uint32_t ri, std::string_view ev, std::uint32_t except_nick, Droppable drop) {
    for (std::uint32_t k = rooms_[ri].first_sub; k != kNone;) {
        const std::uint32_t next = subs_[k].next;
        const std::uint32_t si = subs_[k].session;
        Session& s = sessions_[si];
        if (s.state == SessionState::ready && s.nick != except_nick && !queue(si, ev)) {
            if (drop == Droppable::typing) {
                ++stats_.typing_dropped; // best effort: never worth a disconnect
            } else if (drop == Droppable::read) {
                ++stats_.reads_dropped;
            } else {
                ++stats_.culled_slow;
                begin_close(si, CloseCode::slow_consumer, "too far behind");
            }
        }
        k = next;
    }
}

void Broker::begin_close(std::uint32_t si, CloseCode code, const char* reason) {
    Session& s = sessions_[si];
    if (s.state == SessionState::closing || s.state == SessionState::free) {
        return;
    }
    for (std::uint32_t k = 0; k < limits_.rooms_per_session; ++k) {
        Subscription& x = subs_[s.first_sub + k];
        if (x.used) {
            x.next_seq = rooms_[x.room].history->head() + 1;
            x.joined_pending = false;
        }
    }
    s.welcome_pending = false;
    // Its own buffer: begin_close() runs in the middle of fan-outs whose event
    // still sits in encode_.
    char bye[256];
    JsonWriter w(bye, sizeof bye);
    encode_bye(w, static_cast<std::uint16_t>(code), reason);
    // A slow consumer loses what was queued (it is behind anyway); a policy
    // close keeps it, so the client reads the error that caused the close
    // before the bye (when the bye still fits).
    if (code == CloseCode::slow_consumer || s.control_len + kLenBytes + w.size() > limits_.control_bytes) {
        s.control_len = 0;
        s.control_events = 0;
    }
    queue(si, {bye, w.size()});
    s.close_code = static_cast<std::uint16_t>(code);
    s.state = SessionState::closing;
    wake(si);
}

void Broker::shut(SessionId id, CloseCode code, const char* reason) {
    if (id != 0 && id <= sessions_.size()) {
        begin_close(id - 1, code, reason);
    }
}

void Broker::after_append(std::uint32_t ri) {
    // A cursor below oldest() missed a message of people that the ring
    // dropped; readings that left the device ring are skipped, not missed.
    const RoomHistory& hist = *rooms_[ri].history;
    for (std::uint32_t k = rooms_[ri].first_sub; k != kNone; k = subs_[k].next) {
        const std::uint32_t si = subs_[k].session;
        if (sessions_[si].state != SessionState::ready) {
            continue;
        }
        if (subs_[k].next_seq < hist.oldest()) {
            ++stats_.culled_slow;
            begin_close(si, CloseCode::slow_consumer, "slow consumer: fell behind the ring; reconnect with since");
        } else {
            wake(si);
        }
    }
}

std::uint32_t Broker::pending_msgs(std::uint32_t si, std::uint32_t cap) const {
    const Session& s = sessions_[si];
    std::uint64_t n = 0;
    if (s.state == SessionState::closing) {
        return 0; // nothing after the bye
    }
    for (std::uint32_t k = 0; k < limits_.rooms_per_session && n < cap; ++k) {
        const Subscription& x = subs_[s.first_sub + k];
        if (x.used) {
            n += rooms_[x.room].history->count_from(x.next_seq, cap);
        }
    }
    return static_cast<std::uint32_t>(n < cap ? n : cap);
}

bool Broker::has_pending(SessionId id) const {
    if (id == 0 || id > sessions_.size()) {
        return false;
    }
    const std::uint32_t si = id - 1;
    const Session& s = sessions_[si];
    if (s.state == SessionState::free) {
        return false;
    }
    if (s.welcome_pending || s.control_events > 0) {
        return true;
    }
    for (std::uint32_t k = 0; k < limits_.rooms_per_session; ++k) {
        if (subs_[s.first_sub + k].used && subs_[s.first_sub + k].joined_pending) {
            return true;
        }
    }
    return pending_msgs(si, 1) > 0;
}

std::uint16_t Broker::close_code(SessionId id) const {
    return id == 0 || id > sessions_.size() ? 0 : sessions_[id - 1].close_code;
}

namespace {

// Packs events into "[e1,e2,...]" inside a fixed buffer of `cap` bytes
// (`base` has the broker's headroom in front of it).
class Packer {
public:
    Packer(char* base, std::size_t cap, std::size_t soft_cap) : base_(base), cap_(cap), soft_(soft_cap) {}
    // Room for an event of `n` bytes? The first event always fits (the
    // buffer is sized for the largest event); later ones respect the cap.
    bool fits(std::size_t n) const { return count_ == 0 ? pos_ + n + 1 <= cap_ : pos_ + 1 + n + 1 <= soft_; }
    // Where the next event is written (after its comma).
    char* next() {
        if (count_ > 0) base_[pos_++] = ',';
        return base_ + pos_;
    }
    // Bytes the next event may take (0 once a large first event passed the
    // soft cap).
    std::size_t room() const {
        const std::size_t limit = count_ == 0 ? cap_ : soft_;
        return pos_ + 1 < limit ? limit - pos_ - 1 : 0;
    }
    void commit(std::size_t n) {
        pos_ += n;
        ++count_;
    }
    void undo_comma() {
        if (count_ > 0) --pos_;
    }
    bool add(const char* p, std::size_t n) {
        if (!fits(n)) return false;
        std::memcpy(next(), p, n);
        commit(n);
        return true;
    }
    std::uint32_t count() const { return count_; }
    Frame finish() {
        if (count_ == 1) {
            return Frame{base_ + 1, static_cast<std::uint32_t>(pos_ - 1)};
        }
        base_[0] = '[';
        base_[pos_++] = ']';
        return Frame{base_, static_cast<std::uint32_t>(pos_)};
    }

private:
    char* base_;
    std::size_t cap_, soft_;
    std::size_t pos_ = 1; // base_[0] is kept for '['
    std::uint32_t count_ = 0;
};

} // namespace

bool Broker::next_frame(SessionId id, Frame& out) {
    if (id == 0 || id > sessions_.size()) {
        return false;
    }
    const std::uint32_t si = id - 1;
    Session& s = sessions_[si];
    if (s.state == SessionState::free) {
        return false;
    }
    const CoreLimits& L = limits_;
    bool joined_any = false;
    for (std::uint32_t k = 0; k < L.rooms_per_session && !joined_any; ++k) {
        joined_any = subs_[s.first_sub + k].used && subs_[s.first_sub + k].joined_pending;
    }

    // Fast path: one message and nothing else: straight from the ring.
    if (!s.welcome_pending && !joined_any && s.control_events == 0 && pending_msgs(si, 2) == 1) {
        for (std::uint32_t k = 0; k < L.rooms_per_session; ++k) {
            Subscription& x = subs_[s.first_sub + k];
            if (!x.used) continue;
            const RoomHistory& hist = *rooms_[x.room].history;
            const std::uint64_t seq = hist.next(x.next_seq);
            if (seq <= hist.head()) {
                const char* data = nullptr;
                std::uint32_t len = 0;
                if (!hist.get(seq, data, len)) {
                    return false;
                }
                x.next_seq = seq + 1;
                out = Frame{const_cast<char*>(data), len};
                ++stats_.frames_out;
                ++stats_.deliveries;
                stats_.bytes_out += len;
                return true;
            }
        }
    }

    Packer p(frame_.data() + L.headroom, frame_.size() - L.headroom - 1, L.batch_bytes);
    if (s.welcome_pending) {
        JsonWriter w(p.next(), p.room());
        write_welcome(si, w);
        if (!w.ok()) {
            // The frame buffer is sized for the largest welcome the limits
            // allow (frame_buffer_bytes); never send part of one.
            s.welcome_pending = false;
            ++stats_.culled_slow;
            begin_close(si, CloseCode::policy, "internal error: welcome does not fit");
            return next_frame(id, out);
        }
        p.commit(w.size());
        s.welcome_pending = false;
    }

    // `joined` events in join order.
    for (;;) {
        std::uint32_t pick = kNone;
        for (std::uint32_t k = 0; k < L.rooms_per_session; ++k) {
            const Subscription& x = subs_[s.first_sub + k];
            if (x.used && x.joined_pending && (pick == kNone || x.join_order < subs_[pick].join_order)) {
                pick = s.first_sub + k;
            }
        }
        if (pick == kNone) break;
        Subscription& x = subs_[pick];
        JsonWriter w(p.next(), p.room());
        write_joined(pick, w);
        if (!w.ok()) {
            p.undo_comma();
            if (p.count() > 0) break; // the next frame carries it, first
            // Alone it did not fit: the buffer is sized for the largest
            // joined (frame_buffer_bytes), so this is a bug; never send part.
            x.joined_pending = false;
            begin_close(si, CloseCode::policy, "internal error: joined does not fit");
            return next_frame(id, out);
        }
        p.commit(w.size());
        x.joined_pending = false;
    }

    // Queued small events.
    std::uint32_t used = 0;
    while (used < s.control_len) {
        const std::uint32_t n = static_cast<std::uint8_t>(s.control[used]) |
                                static_cast<std::uint32_t>(static_cast<std::uint8_t>(s.control[used + 1])) << 8;
        if (!p.add(s.control + used + kLenBytes, n)) break;
        used += kLenBytes + n;
        s.control_events--;
    }
    if (used > 0) {
        std::memmove(s.control, s.control + used, s.control_len - used);
        s.control_len -= used;
    }

    // Messages, round-robin over the subscriptions so one busy room does not
    // starve the others.
    std::uint32_t delivered = 0;
    if (s.control_events == 0 && s.state != SessionState::closing) {
        bool more = true;
        while (more) {
            more = false;
            for (std::uint32_t j = 0; j < L.rooms_per_session; ++j) {
                Subscription& x = subs_[s.first_sub + (s.rr + j) % L.rooms_per_session];
                if (!x.used || x.joined_pending) continue;
                const RoomHistory& hist = *rooms_[x.room].history;
                const std::uint64_t seq = hist.next(x.next_seq);
                if (seq > hist.head()) continue;
                const char* data = nullptr;
                std::uint32_t len = 0;
                if (!hist.get(seq, data, len) || !p.add(data, len)) continue;
                x.next_seq = seq + 1;
                ++delivered;
                more = true;
            }
            s.rr = (s.rr + 1) % L.rooms_per_session;
        }
    }
    if (p.count() == 0) {
        return false;
    }
    out = p.finish();
    ++stats_.frames_out;
    stats_.batches += p.count() > 1 ? 1u : 0u;
    stats_.deliveries += delivered;
    stats_.bytes_out += out.len;
    return true;
}

} // namespace roost
