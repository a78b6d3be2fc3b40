// The core's side of the MQTT bridge: which messages go out (ours, in
// bridged rooms, in seq order, each once it is acknowledged), and what comes
// in (other Roosts' messages, kept with their origin and stored once;
// devices' readings). Fixed tables: a cursor per room slot and
// kBridgeOrigins origins per room slot for duplicates; the payload buffer is
// sized at enable time.
#include "broker/broker.h"
#include "broker/reserve.h"

#include "broker/commands.h"
#include "broker/json_writer.h"
#include "broker/names.h"

#include <cstring>

namespace roost {

std::uint64_t Broker::bridge_reserve(const CoreLimits& l) {
    return std::uint64_t{l.max_rooms} * (sizeof(std::uint64_t) + kBridgeOrigins * sizeof(BridgeSeen)) +
           max_event_bytes(l) + 128;
}

void Broker::bridge_enable(std::string_view origin, const std::vector<std::string>& rooms) {
    bridge_origin_.assign(origin);
    bridge_rooms_ = rooms;
    bridge_cursor_.assign(rooms_.size(), 0);
    for (std::uint32_t ri = 0; ri < rooms_.size(); ++ri) {
        const Room& r = rooms_[ri];
        const BridgeMark& m = bridge_marks_[ri];
        // Where the journal says the link had got to in this history; else
        // from now on (what the room held before the bridge is not sent).
        const bool kept = r.used && m.room == r.name.view() && std::memcmp(m.epoch, r.epoch, kEpochLen) == 0 &&
                          m.next <= r.history->head() + 1;
        bridge_cursor_[ri] = kept ? m.next : r.used ? r.history->head() + 1 : 1;
    }
    bridge_seen_.assign(rooms_.size() * std::size_t{kBridgeOrigins}, BridgeSeen{});
    bridge_buf_.assign(encode_.size() + 128, '\0');
}

bool Broker::bridge_covers(std::string_view lower_name) const {
    if (bridge_origin_.empty() || lower_name.empty() || lower_name[0] == '@') return false;
    if (bridge_rooms_.empty()) return true;
    for (const std::string& r : bridge_rooms_) {
        if (lower_name == r) return true;
    }
    return false;
}

bool Broker::bridged(std::uint32_t ri) const {
    return ri < rooms_.size() && rooms_[ri].used && bridge_covers(rooms_[ri].name.view());
}

bool Broker::bridge_next(BridgeOut& out) {
    for (std::uint32_t ri = 0; ri < rooms_.size(); ++ri) {
        if (!bridged(ri)) continue;
        const RoomHistory& hist = *rooms_[ri].history;
        std::uint64_t& next = bridge_cursor_[ri];
        if (next < hist.oldest()) {
            stats_.bridge_missed += hist.oldest() - next; // at most: some of those seqs were readings
            next = hist.oldest();
        }
        for (next = hist.next(next); next <= hist.head(); next = hist.next(next + 1)) {
            const EntryMeta* meta = hist.meta(next);
            const char* data = nullptr;
            std::uint32_t len = 0;
            if (meta == nullptr || meta->remote || !hist.get(next, data, len)) continue;
            const std::string_view msg(data, len);
            if (msg.substr(0, kMsgPrefix.size()) != kMsgPrefix) continue;
            // {"type":"msg","origin":"ME","oepoch":"E", + the rest of the stored msg
            JsonWriter w(bridge_buf_.data(), bridge_buf_.size());
            w.begin_object();
            w.key("type");
            w.string("msg");
            w.key("origin");
            w.string(bridge_origin_);
            w.key("oepoch");
            w.string(std::string_view(rooms_[ri].epoch, kEpochLen));
            const std::size_t head = w.size();
            const std::string_view rest = msg.substr(kMsgPrefix.size());
            if (!w.ok() || head + 1 + rest.size() > bridge_buf_.size()) continue;
            bridge_buf_[head] = ',';
            std::memcpy(bridge_buf_.data() + head + 1, rest.data(), rest.size());
            out.ri = ri;
            out.seq = next;
            out.room = rooms_[ri].name.view();
            out.payload = std::string_view(bridge_buf_.data(), head + 1 + rest.size());
            return true;
        }
    }
    return false;
}

void Broker::bridge_done(std::uint32_t ri, std::uint64_t seq) {
    if (ri < bridge_cursor_.size() && bridge_cursor_[ri] == seq) {
        bridge_cursor_[ri] = seq + 1;
        ++stats_.bridge_published;
        bridge_mark(ri, seq + 1);
    }
}

void Broker::bridge_mark(std::uint32_t ri, std::uint64_t next) {
    BridgeMark& m = bridge_marks_[ri];
    std::memset(&m, 0, sizeof m);
    std::memcpy(m.room, rooms_[ri].name.buf, rooms_[ri].name.len);
    std::memcpy(m.epoch, rooms_[ri].epoch, kEpochLen);
    m.next = next;
    BrokerForCommands::save(*this, RecordTable::bridge, ri);
}

Errc Broker::bridge_receive(std::string_view room, const BridgedMsg& m, bool& duplicate) {
    duplicate = false;
    char buf[kRoomNameMax + 1];
    const std::string_view name = fold_room_name(room, buf, sizeof buf);
    if (name.empty() || bridge_origin_.empty()) return Errc::bad_request;
    if (m.origin == bridge_origin_) {
        duplicate = true; // our own, back from the MQTT broker
        return Errc::ok;
    }
    if (!bridge_covers(name)) return Errc::forbidden;
    std::uint32_t ri = room_index(name);
    Errc err = Errc::ok;
    if (ri == kNone && (ri = create_room(name, err)) == kNone) return err;
    // The origin's row for this room: found, else a free one, else the
    // least recently useful (lowest seq) is taken over.
    BridgeSeen* rows = &bridge_seen_[std::size_t{ri} * kBridgeOrigins];
    BridgeSeen* row = nullptr;
    for (std::uint32_t k = 0; k < kBridgeOrigins && row == nullptr; ++k) {
        if (m.origin == rows[k].origin) row = &rows[k];
    }
    if (row == nullptr) {
        row = &rows[0];
        for (std::uint32_t k = 0; k < kBridgeOrigins; ++k) {
            if (rows[k].origin[0] == '\0') {
                row = &rows[k];
                break;
            }
            if (rows[k].seq < row->seq) row = &rows[k];
        }
        *row = BridgeSeen{};
        std::memcpy(row->origin, m.origin.data(), m.origin.size());
    }
    if (m.oepoch == row->oepoch && m.seq <= row->seq) {
        duplicate = true;
        ++stats_.bridge_duplicates;
        return Errc::ok;
    }
    PostResult r;
    const Errc e = store(ri, m.from, m.kind, m.text, m.data_json, {}, r, m.origin);
    if (e != Errc::ok) return e;
    if (m.oepoch != row->oepoch) {
        std::memset(row->oepoch, 0, sizeof row->oepoch);
        std::memcpy(row->oepoch, m.oepoch.data(), m.oepoch.size());
    }
    row->seq = m.seq;
    ++stats_.bridge_received;
    return Errc::ok;
}

Errc Broker::bridge_device(std::string_view room, std::string_view name, const Command& c, const char** why) {
    char buf[kRoomNameMax + 1];
    const std::string_view lower = fold_room_name(room, buf, sizeof buf);
    if (lower.empty() || !nick_valid(name)) return Errc::bad_request;
    if (!bridge_covers(lower)) return Errc::forbidden;
    std::uint32_t ri = room_index(lower);
    Errc err = Errc::ok;
    PostResult r;
    // A reading the device store would refuse creates no room either.
    if (ri == kNone && !c.data_json.empty() && (err = check_reading(kNone, name, c.data_json, r.why)) != Errc::ok) {
        if (why != nullptr && r.why != nullptr) *why = r.why;
        return err;
    }
    if (ri == kNone && (ri = create_room(lower, err)) == kNone) return err;
    const Errc e = store(ri, name, MsgKind::device, c.text, c.data_json, {}, r, "mqtt");
    if (e == Errc::ok) ++stats_.bridge_received;
    if (why != nullptr && r.why != nullptr) *why = r.why;
    return e;
}

} // namespace roost
