#include "broker/reserve.h"

#include "broker/broker.h"
#include "broker/device_store.h"
#include "broker/names.h"

#include <algorithm>

namespace roost {

namespace {

using u64 = std::uint64_t;

u64 larger(u64 a, u64 b) { return a > b ? a : b; }
u64 smaller(u64 a, u64 b) { return a < b ? a : b; }

} // namespace

u64 max_event_bytes(const CoreLimits& l) {
    // Text JSON-escaped (6 bytes per byte at worst), data (keys, escaped
    // strings), the cid, names and numbers.
    return u64{l.max_text} * 6 + u64{l.max_data_keys} * (kNickMax * 6 + u64{l.max_data_string} * 6 + 40) +
           u64{l.max_cid} * 6 + 512;
}

std::uint32_t device_ring_size(const CoreLimits& l) {
    if (l.device_ring_bytes != 0) return l.device_ring_bytes;
    const u64 one = max_event_bytes(l) + l.headroom + 64;
    return static_cast<std::uint32_t>(one > 32 * 1024 ? one : 32 * 1024);
}

u64 welcome_max_bytes(const CoreLimits& l) {
    // 512: type, nick, server and the limits object. Per room at most
    // {"room":"<32>","members":<10>,"head":<20>}, (names need no escaping).
    return 512 + u64{l.max_rooms} * 96;
}

u64 joined_max_bytes(const CoreLimits& l) {
    // 256: type, room, epoch, head, oldest, recovered. Per member at most
    // "<24>", (one per nick: a nick in several sessions is listed once);
    // per read mark "<24>":<20>,.
    return 256 + smaller(l.max_sessions, l.max_nicks) * u64{28} + u64{l.reads_per_room} * 48;
}

u64 frame_buffer_bytes(const CoreLimits& l) {
    const u64 largest =
        larger(larger(l.batch_bytes, max_event_bytes(l)), larger(welcome_max_bytes(l), joined_max_bytes(l)));
    return l.headroom + 2 + largest;
}

u64 reply_reserve_bytes(const CoreLimits& l) {
    // {"type":"error","code":"...","message":"...","ref":"..."} with the
    // message (printable, at most kMaxErrorMessage) and the ref (a cid, a
    // type or a room name) each escaped at most twofold; an ack is smaller.
    return 2 + 96 + 2 * u64{kMaxErrorMessage} + 2 * larger(l.max_cid, 64);
}

std::vector<ReservePart> core_reserve(const CoreLimits& l) {
    std::vector<ReservePart> parts = {
        {"max_rooms x ring_bytes (the rooms' rings)",
         u64{l.max_rooms} * (RoomRing::reserved_bytes(l.ring_msgs, l.ring_bytes, l.headroom) + sizeof(Room))},
        {"max_rooms x device_ring_bytes (the rooms' device rings)",
         u64{l.max_rooms} * (RoomRing::reserved_bytes(l.device_ring_msgs, device_ring_size(l), l.headroom) +
                             sizeof(RoomHistory))},
        {"max_sessions x rooms_per_session (subscriptions)",
         u64{l.max_sessions} * l.rooms_per_session * sizeof(Subscription)},
        {"max_sessions x control_bytes", u64{l.max_sessions} * (u64{l.control_bytes} + sizeof(Session))},
        {"max_nicks x max_key", u64{l.max_nicks} * (u64{l.max_key} + sizeof(Nick))},
        {"max_rooms x reads_per_room (read receipts)", u64{l.max_rooms} * l.reads_per_room * sizeof(ReadMark)},
        {"max_reminders, max_watches (each following up to " + std::to_string(kWatchDevices) + " devices) and the rooms' games",
         Broker::bots_reserve(l)},
        {"max_timers", u64{l.max_timers} * 32},
        {"max_devices and max_series (the devices and their archives)",
         DeviceStore::reserved_bytes(l) + Broker::device_record_size(l)},
        {"the frame and event buffers (batch_bytes, max_text, max_rooms, max_sessions, reads_per_room)",
         frame_buffer_bytes(l) + max_event_bytes(l)},
        {"the frame decoder (max_frame)", Decoder::reserved_bytes(l)},
        {"the MQTT bridge's tables (max_rooms)", Broker::bridge_reserve(l)},
    };
    std::sort(parts.begin(), parts.end(), [](const ReservePart& a, const ReservePart& b) { return a.bytes > b.bytes; });
    return parts;
}

u64 total_bytes(const std::vector<ReservePart>& parts) {
    u64 sum = 0;
    for (const ReservePart& p : parts) sum += p.bytes;
    return sum;
}

} // namespace roost
