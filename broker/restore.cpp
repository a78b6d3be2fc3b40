// Rebuilding the tables from the journal at start-up (see Broker::restore_*
// in broker.h). Runs before any session exists and before the journal is
// attached, so nothing here is written back or sent to anyone.
#include "broker/broker.h"

#include "broker/commands.h"
#include "broker/json_writer.h"
#include "broker/names.h"
#include "broker/stored_msg.h"

#include <cstring>

namespace roost {

namespace {

constexpr std::string_view kLostText = "this message was lost: its record on disk was damaged";

// Seqs and times are whole numbers below 2^53: what every JSON client
// holds exactly.
constexpr std::uint64_t kSeqLimit = std::uint64_t{1} << 53;

// An epoch as create_room() makes them: kEpochLen of base32 (a-z, 2-7).
// It is written into answers as it is, so nothing else may come back.
bool epoch_valid(std::string_view e) {
    if (e.size() != kEpochLen) return false;
    for (const char c : e) {
        if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
    }
    return true;
}

} // namespace

bool Broker::restore_room(std::uint32_t ri, std::string_view name, std::string_view epoch) {
    char lower_buf[kAnyRoomNameMax + 1];
    if (ri >= rooms_.size() || !epoch_valid(epoch) || name.empty() || room_index(name) != kNone ||
        fold_any_room_name(name, lower_buf, sizeof lower_buf) != name) {
        return false;
    }
    start_history(ri, name, epoch);
    return true;
}

bool Broker::restore_message(std::uint32_t ri, HistoryClass cls, std::uint64_t seq, const EntryMeta& meta,
                             std::string_view msg_json, bool gap_is_loss) {
    if (ri >= rooms_.size() || !rooms_[ri].used || msg_json.empty() || seq <= rooms_[ri].history->head() ||
        seq >= kSeqLimit) {
        return false;
    }
    Room& r = rooms_[ri];
    RoomHistory& hist = *r.history;
    // Served verbatim from the ring later: only a msg of this room and seq
    // as this broker writes them (a checksum that holds proves no more).
    // Another record still takes its seq, as a lost one in people's ring, so
    // that the seq is never given to a new message.
    const bool valid = stored_msg_valid(msg_json, r.name.view(), seq);
    const std::uint64_t ts = meta.ts < kSeqLimit ? meta.ts : 0; // a number every JSON client holds
    if (hist.count() == 0 || seq - hist.head() > hist.people().slots()) {
        hist.reset_to(seq - 1); // the first message, or a gap wider than the ring
    }
    const auto lose = [&](std::uint64_t lost) {
        JsonWriter w(encode_.data(), encode_.size());
        encode_msg(w, r.name.view(), lost, ts, CommandRouter::kBotName, MsgKind::system, kLostText, {}, {});
        return hist.restore(HistoryClass::people, lost, encode_.data(), static_cast<std::uint32_t>(w.size()),
                            EntryMeta{ts, 0});
    };
    while (gap_is_loss && hist.head() + 1 < seq) {
        if (!lose(hist.head() + 1)) return false;
    }
    if (!valid) {
        (void)lose(seq);
        return false;
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
