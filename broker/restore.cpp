// Rebuilding the tables from the journal at start-up (see Broker::restore_*
// in broker.h). Runs before any session exists and before the journal is
// attached, so nothing here is written back or sent to anyone.
#include "broker/broker.h"

#include "broker/commands.h"
#include "broker/json_writer.h"
#include "broker/names.h"

#include <cstring>

namespace roost {

namespace {

constexpr std::string_view kLostText = "this message was lost: its record on disk was damaged";

} // namespace

bool Broker::restore_room(std::uint32_t ri, std::string_view name, std::string_view epoch) {
    char lower_buf[kAnyRoomNameMax + 1];
    if (ri >= rooms_.size() || epoch.size() != kEpochLen || room_index(name) != kNone ||
        fold_any_room_name(name, lower_buf, sizeof lower_buf) != name) {
        return false;
    }
    start_history(ri, name, epoch);
    return true;
}

bool Broker::restore_message(std::uint32_t ri, HistoryClass cls, std::uint64_t seq, const EntryMeta& meta,
                             std::string_view msg_json, bool gap_is_loss) {
    if (ri >= rooms_.size() || !rooms_[ri].used || msg_json.empty() || seq <= rooms_[ri].history->head()) {
        return false;
    }
    Room& r = rooms_[ri];
    RoomHistory& hist = *r.history;
    if (hist.count() == 0 || seq - hist.head() > hist.people().slots()) {
        hist.reset_to(seq - 1); // the first message, or a gap wider than the ring
    }
    while (gap_is_loss && hist.head() + 1 < seq) {
        const std::uint64_t lost = hist.head() + 1;
        JsonWriter w(encode_.data(), encode_.size());
        encode_msg(w, r.name.view(), lost, meta.ts, CommandRouter::kBotName, MsgKind::system, kLostText, {}, {});
        if (!hist.restore(HistoryClass::people, lost, encode_.data(), static_cast<std::uint32_t>(w.size()),
                          EntryMeta{meta.ts, 0})) {
            return false;
        }
    }
    EntryMeta m = meta;
    m.remote = msg_json.substr(0, kRemotePrefix.size()) == kRemotePrefix;
    if (!hist.restore(cls, seq, msg_json.data(), static_cast<std::uint32_t>(msg_json.size()), m)) {
        return false;
    }
    if (meta.ts > r.last_active_ms) {
        r.last_active_ms = meta.ts;
    }
    return true;
}

bool Broker::restore_key(std::uint32_t ni, std::string_view display, std::string_view key) {
    char lower_buf[kNickMax + 1];
    const std::string_view lower = fold_nick(display, lower_buf, sizeof lower_buf);
    if (ni >= nicks_.size() || nicks_[ni].used || key.empty() || key.size() > limits_.max_key || !nick_valid(display) ||
        nick_index(lower) != kNone) {
        return false;
    }
    Nick& n = nicks_[ni];
    n.used = true;
    n.display.assign(display);
    n.lower.assign(lower);
    n.connections = 0;
    std::memcpy(n.key, key.data(), key.size());
    n.key_len = static_cast<std::uint32_t>(key.size());
    return true;
}

bool Broker::restore_read(std::uint32_t ri, std::uint32_t mark, std::string_view nick, std::uint64_t seq) {
    if (ri >= rooms_.size() || !rooms_[ri].used || mark >= limits_.reads_per_room || !nick_valid(nick) ||
        seq > rooms_[ri].history->head()) {
        return false;
    }
    ReadMark& m = rooms_[ri].reads[mark];
    m.nick.assign(nick);
    m.seq = seq;
    return true;
}

} // namespace roost
