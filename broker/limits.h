// Every capacity and limit of the core, fixed at start-up. The broker
// reserves all its memory from these once; nothing grows afterwards.
// Defaults follow the wire contract (docs/protocol.md).
#pragma once

#include <cstdint>

namespace roost {

// The largest max_cid the settings allow (buffers that hold a cid are sized
// for it).
inline constexpr std::uint32_t kMaxCidBound = 256;

// The round-robin archives of every device series (broker/device_store.h),
// from the device_archives setting: per archive `count` buckets of `step_ms`.
inline constexpr std::uint32_t kMaxArchives = 4;
struct Archive {
    std::uint32_t step_ms = 0; // 0: unused
    std::uint32_t count = 0;
};
struct ArchiveSet {
    // 1-minute buckets for 2 hours, 15-minute for 48 hours, 1-hour for 30 days.
    Archive a[kMaxArchives] = {{60000, 120}, {900000, 192}, {3600000, 720}, {0, 0}};
    std::uint32_t n = 3;
    std::uint32_t buckets() const; // in all, per series
    std::uint64_t span_ms() const; // of the longest
};

struct CoreLimits {
    std::uint32_t max_rooms = 64;          // rooms, direct-message rooms included
    std::uint32_t ring_msgs = 256;         // messages a room holds...
    std::uint32_t ring_bytes = 64 * 1024;  // ...or bytes of encoded events, whichever fills first
    std::uint32_t device_ring_msgs = 64;   // device readings a room keeps for replay (RoomHistory)...
    std::uint32_t device_ring_bytes = 0;   // ...or bytes, whichever fills first; 0: device_ring_size()
    std::uint32_t max_sessions = 256;      // concurrent WebSocket sessions
    std::uint32_t max_nicks = 512;         // nicks known (online, or owning a key)
    std::uint32_t rooms_per_session = 16;  // rooms one session may be joined to
    std::uint32_t reads_per_room = 64;     // read receipts remembered per room (lowest seq evicted)
    std::uint32_t max_timers = 256;        // pending timers (bots, reminders)
    std::uint32_t max_reminders = 128;     // reminders pending in the whole broker
    std::uint32_t reminders_per_nick = 10; // reminders one nick may have pending
    std::uint32_t max_watches = 64;        // device watches in the whole broker
    std::uint32_t max_text = 2048;         // bytes of message text
    std::uint32_t max_frame = 16 * 1024;   // bytes of one client frame's payload
    std::uint32_t max_body = 16 * 1024;    // bytes of one HTTP body
    std::uint32_t backlog = 50;            // default replay on join
    std::uint32_t batch_bytes = 16 * 1024; // cap of one batched server frame
    std::uint32_t control_bytes = 4 * 1024; // per-session buffer for small events (ack, error, presence, typing, read); overflow culls (typing is dropped instead)
    std::uint32_t headroom = 16;           // bytes kept free before every frame (at least the platform's LWS_PRE: platform/protocol.cpp checks it)
    std::uint32_t max_data_keys = 16;      // keys in a message's `data`
    std::uint32_t max_data_string = 64;    // bytes of a string value in `data`
    std::uint32_t max_cid = 64;            // bytes of a `cid` / Idempotency-Key
    std::uint32_t max_key = 128;           // bytes of a nick's owning `key` and of a token
    // Rates (token buckets): sustained per second, and burst.
    std::uint32_t msg_rate = 10, msg_burst = 20;        // say/dm per session
    std::uint32_t typing_rate = 2, typing_burst = 4;    // typing per session (excess dropped silently)
    std::uint32_t error_limit = 20;                     // client errors per minute before close 1008
    std::uint32_t addr_rate = 20, addr_burst = 40;      // HTTP API posts per source address
    std::uint32_t max_addresses = 256;                  // source addresses tracked for rate limits
    // Devices (broker/device_store.h).
    std::uint32_t max_devices = 32;        // devices tracked in all rooms
    std::uint32_t keys_per_device = 8;     // keys of its data a device's latest values keep
    std::uint32_t max_series = 64;         // numeric (device, key) series with archives
    std::uint32_t device_stale_s = 0;      // quiet this long: stale (0: 3 x its usual interval)
    ArchiveSet archives;
};

} // namespace roost
