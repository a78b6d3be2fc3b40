// Broker: everything the broker knows and decides. Pure C++: the platform
// feeds it client frames and asks it for frames to write; time and
// randomness come through broker/clock.h; wake-ups and closes go out through
// the Transport interface below. Memory: every table and every room ring is
// reserved in the constructor from CoreLimits; after that no call allocates.
//
// A message is encoded once into its room's ring; every member's session
// keeps only a cursor (next seq) per room and writes straight from the ring.
// When several events are pending for one session, next_frame() packs them
// into one JSON array frame of at most batch_bytes. A session whose cursor
// falls behind the ring's oldest entry is culled (bye + close 4008).
#pragma once

#include "broker/bots.h"
#include "broker/clock.h"
#include "broker/decoder.h"
#include "broker/device_store.h"
#include "broker/error.h"
#include "broker/events.h"
#include "broker/journal.h"
#include "broker/limits.h"
#include "broker/room_view.h"
#include "broker/tables.h"
#include "broker/timers.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roost {

using SessionId = std::uint32_t; // index + 1; 0 is "none"

// What the core asks of the platform.
class Transport {
public:
    virtual ~Transport() = default;
    // Session `s` has something to write: call Broker::next_frame when its
    // socket is writable.
    virtual void wake(SessionId s) = 0;
    // A message was stored in room `room` (an index for Broker::room()):
    // readers outside the session table (Server-Sent Events) may want it.
    virtual void stored(std::uint32_t room) { (void)room; }
};

// Answers the token checks (configured tokens arrive with the server's
// settings). Without an Authorizer everyone may do everything.
class Authorizer {
public:
    static constexpr std::int32_t denied = -1;
    // Granted while no token was required: may do everything, also after
    // tokens are configured by a reload (nobody connected is dropped).
    static constexpr std::int32_t open = -2;
    virtual ~Authorizer() = default;
    // What a hello's token grants (an index the Authorizer understands), or
    // `denied`: the hello gets `unauthorized` and the session closes 1008.
    virtual std::int32_t grant(std::string_view token) = 0;
    // May a session holding `grant` read (join) or write (say in) the plain
    // room `room`? Direct-message rooms are their two parties' only.
    virtual bool allows(std::int32_t grant, std::string_view room, bool write) = 0;
};

// One frame to write: `len` bytes at `data`, with limits.headroom writable
// bytes in front of it. Valid until the next call into the Broker.
struct Frame {
    char* data = nullptr;
    std::uint32_t len = 0;
};

// The answer to a message stored through post().
struct PostResult {
    const char* why = nullptr; // a refusal's reason, when the core has one
    std::uint64_t seq = 0;
    std::uint64_t ts = 0;
    bool duplicate = false; // a retry: nothing was stored, this is the first answer
    std::string_view epoch; // valid until the room is recycled
};

class Broker {
public:
    Broker(const CoreLimits& limits, Clock& clock, Random& random, Transport& transport);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // Bytes reserved at start-up (broker/reserve.h: core_reserve), and the
    // one-line report the broker prints ("reserved 5.1 MiB: 64 rooms x 64
    // KiB ring, ...").
    std::size_t reserved_bytes() const { return reserved_; }
    std::string reserved_report() const;
    // Parts of core_reserve(): the bots' tables, and the bridge's (reserved
    // when it is enabled).
    static std::uint64_t bots_reserve(const CoreLimits& l);
    static std::uint64_t bridge_reserve(const CoreLimits& l);

    void set_authorizer(Authorizer* a) { auth_ = a; }
    // From now on every new history, message, key and read mark goes to `j`
    // first (nullptr: memory only). Set after the restore_* calls.
    void set_journal(Journal* j) { journal_ = j; }

    // Start-up only, before set_journal() and before any session: rebuild
    // the tables from the journal (broker/restore.cpp). Indices are the
    // tables' own (room slot, nick entry, read mark), so what was written
    // from slot N comes back to slot N. Each returns false (and changes
    // nothing) for an index or value out of range.
    // Room slot `ri` becomes `name` with history `epoch` (kEpochLen of
    // base32, as create_room makes them) and no messages.
    bool restore_room(std::uint32_t ri, std::string_view name, std::string_view epoch);
    // Appends message `seq` of class `cls` to room `ri`; seqs must ascend.
    // When `gap_is_loss`, a gap before it (records lost to damage) is filled
    // with one `system` message per missing seq saying so, unless the gap is
    // wider than the people's ring; otherwise the missing seqs were readings
    // the device ring let go, and stay missing. A record that is not a msg
    // of that room and seq as encode_msg writes it (stored_msg.h) is kept as
    // such a lost message (its seq is never reused) and answers false, as
    // does a seq of 2^53 or more (refused).
    bool restore_message(std::uint32_t ri, HistoryClass cls, std::uint64_t seq, const EntryMeta& meta,
                         std::string_view msg_json, bool gap_is_loss = true);
    bool restore_key(std::uint32_t ni, std::string_view display, std::string_view key);
    bool restore_read(std::uint32_t ri, std::uint32_t mark, std::string_view nick, std::uint64_t seq);
    // A record of a RecordTable (broker/bots.h: the bots' and the bridge's):
    // `bytes` as Journal::record_saved() got them.
    bool restore_record(std::uint32_t table, std::uint32_t index, std::string_view bytes);
    // The device store's records (broker/devices.cpp), as the journal got
    // them; devices first (a series needs its device, a bucket its series).
    bool restore_device(std::uint32_t i, std::string_view bytes);
    bool restore_series(std::uint32_t s, std::string_view bytes);
    bool restore_bucket(std::uint32_t s, std::uint32_t archive, std::uint32_t slot, std::string_view bytes);
    // Bytes of one device record (Journal::device_saved).
    static std::size_t device_record_size(const CoreLimits& l);
    // After the restore_* calls: pending reminders, games and watches resume.
    void start_bots();

    // A new connection from `addr` (16 bytes, IPv4 mapped). Returns 0 when
    // the session table is full: the platform refuses the connection.
    [[nodiscard]] SessionId open_session(const std::uint8_t addr[16]);
    // The connection is gone (closed by either side): leave every room.
    void close_session(SessionId s);
    // One complete client frame (text). Never closes the socket itself: when
    // the session must go, close_code() becomes non-zero after `bye` is queued.
    void on_frame(SessionId s, const char* data, std::size_t len);
    // The next frame to write for `s`, or false when nothing is pending.
    [[nodiscard]] bool next_frame(SessionId s, Frame& out);
    // True while something is waiting for `s`.
    bool has_pending(SessionId s) const;
    // Non-zero once `s` must be closed with that code (after the pending
    // frames, which end with `bye`, are written).
    std::uint16_t close_code(SessionId s) const;
    // True once `s` said hello and was welcomed (the platform closes
    // sessions that do not within handshake_timeout_s).
    bool said_hello(SessionId s) const;
    // True while `s` has room for the answer to one more frame
    // (reply_reserve_bytes free in its control buffer). When false the
    // platform stops reading `s` until its pending answers are written, so
    // no answer is ever dropped for want of room.
    bool can_take_frame(SessionId s) const;
    // Queues `bye` and asks for a close with `code` (shutdown: 1001).
    void shut(SessionId s, CloseCode code, const char* reason);
    // The Authorizer's grants changed (a reload): every session's grant g
    // >= 0 becomes map[g] (Authorizer::denied when out of the map).
    void remap_grants(const std::vector<std::int32_t>& map);

    // HTTP API: store a message from a device/script into `room` (created
    // when new). `cid` empty means no retry key.
    [[nodiscard]] Errc post(std::string_view room, std::string_view from, MsgKind kind, std::string_view text,
                            std::string_view data_json, std::string_view cid, PostResult& out);

    // Timers for bots and reminders: a fixed table of max_timers. A handler
    // is registered per kind (0..kTimerKinds-1) and runs from tick().
    static constexpr std::uint32_t kTimerKinds = 16;
    using TimerHandler = void (*)(Broker& b, std::uint64_t arg);
    void set_timer_handler(std::uint32_t kind, TimerHandler h);
    // Returns the timer's id, or 0 when the table is full (server_busy).
    [[nodiscard]] std::uint32_t add_timer(std::uint64_t delay_ms, std::uint32_t kind, std::uint64_t arg);
    bool cancel_timer(std::uint32_t id) { return timers_.cancel(id); }
    // Runs every timer due by now. The platform calls it when
    // next_timer_due() (ms since the epoch; UINT64_MAX when none) passes.
    void tick();
    std::uint64_t next_timer_due() const { return timers_.next_due(); }

    // Read-only views for the HTTP API, metrics and tests.
    const Room* find_room(std::string_view lower_name) const;
    std::uint32_t room_index_of(std::string_view lower_name) const { return room_index(lower_name); }
    const Room& room(std::uint32_t index) const { return rooms_[index]; }
    // What the platform reads of room slot `index` (0 .. room_slots() - 1).
    RoomView room_view(std::uint32_t index) const { return RoomView(rooms_[index]); }
    std::uint32_t room_slots() const { return static_cast<std::uint32_t>(rooms_.size()); }
    std::uint32_t room_count() const;
    // The plain rooms as the contract lists them, [{room, members, head}]
    // (welcome), with `oldest` too (GET /api/rooms): one encoder for both.
    // `shows(ctx, lower_name)` picks the rooms; nullptr: every plain room.
    using RoomFilter = bool (*)(const void* ctx, std::string_view lower_name);
    void write_room_list(JsonWriter& w, RoomFilter shows, const void* ctx, bool with_oldest) const;
    std::uint32_t session_count() const { return sessions_open_; }
    const CoreLimits& limits() const { return limits_; }
    // The devices that post into the rooms (read-only: the HTTP API, metrics).
    const DeviceStore& devices() const { return devices_; }

    // The MQTT bridge (broker/bridge.cpp; platform/mqtt_bridge.cpp drives
    // it). `origin` is this broker's id on the bridge (1..64 printable);
    // `rooms` the bridged rooms (empty: every plain room). Messages already
    // held are not published: the bridge starts at each room's head.
    void bridge_enable(std::string_view origin, const std::vector<std::string>& rooms);
    bool bridged(std::uint32_t ri) const;
    bool bridge_covers(std::string_view lower_name) const; // a plain room the bridge carries
    void bridge_mark(std::uint32_t ri, std::uint64_t next); // the cursor, to the journal
    // The next message this broker originated in a bridged room and has not
    // published: `room`, `seq` and the payload to publish (its `msg` with
    // origin and oepoch added), valid until the next call into the Broker.
    struct BridgeOut {
        std::uint32_t ri = 0;
        std::uint64_t seq = 0;
        std::string_view room, payload;
    };
    [[nodiscard]] bool bridge_next(BridgeOut& out);
    // It went out (QoS 0: written; QoS 1: acked): the next one may follow.
    void bridge_done(std::uint32_t ri, std::uint64_t seq);
    // A message from another Roost on <prefix>/<room>: stored and fanned out
    // keeping its origin, unless it is ours or a duplicate (its origin's
    // seq was seen already in that origin's history): then `duplicate`.
    [[nodiscard]] Errc bridge_receive(std::string_view room, const BridgedMsg& m, bool& duplicate);
    // A device's message on <prefix>/<room>/device/<name> (text or data,
    // see Decoder::decode_device): kind device from `name`, never published
    // back (every Roost on the bridge gets it from the device itself).
    // A refusal's reason (the device store's) in `why` when given.
    [[nodiscard]] Errc bridge_device(std::string_view room, std::string_view name, const Command& c,
                                     const char** why = nullptr);

    // Counters for /metrics.
    struct Stats {
        // frames_in: every frame taken from an open session, valid or not
        // (/metrics keeps its first name, roost_messages_in_total).
        std::uint64_t frames_in = 0, deliveries = 0, frames_out = 0, batches = 0, bytes_out = 0;
        std::uint64_t culled_slow = 0, closed_abuse = 0, rate_limited = 0, client_errors = 0;
        std::uint64_t rooms_recycled = 0, typing_dropped = 0, reads_dropped = 0;
        std::uint64_t disk_full = 0; // requests refused because the journal could not write
        std::uint64_t bridge_published = 0, bridge_received = 0, bridge_duplicates = 0;
        std::uint64_t bridge_missed = 0; // own messages that fell off the ring before the bridge could publish them
    };
    const Stats& stats() const { return stats_; }

private:
    friend struct BrokerForCommands;
    // broker.cpp: hello and the per-command handlers
    void handle(std::uint32_t si, const Command& c);
    void on_hello(std::uint32_t si, const Command& c);
    void on_join(std::uint32_t si, const Command& c);
    void on_leave(std::uint32_t si, const Command& c);
    void on_say(std::uint32_t si, const Command& c);
    void on_dm(std::uint32_t si, const Command& c);
    void on_typing(std::uint32_t si, const Command& c);
    void on_read(std::uint32_t si, const Command& c);
    void client_error(std::uint32_t si, Errc e, std::string_view message, std::string_view ref);

    // rooms.cpp: the room and nick tables
    std::uint32_t room_index(std::string_view lower_name) const;
    std::uint32_t create_room(std::string_view lower_name, Errc& err);
    // Room slot `ri` becomes `lower_name` with history `epoch` (kEpochLen
    // characters): empty ring, no members, no read marks.
    void start_history(std::uint32_t ri, std::string_view lower_name, std::string_view epoch);
    std::uint32_t nick_index(std::string_view lower) const;
    std::uint32_t claim_nick(std::string_view display, std::string_view key, Errc& err);
    void release_nick(std::uint32_t ni);
    void own_nick(std::uint32_t ni, std::string_view key);
    std::uint32_t find_sub(std::uint32_t si, std::uint32_t ri) const;
    std::uint32_t subscribe(std::uint32_t si, std::uint32_t ri, const Command* join, Errc& err);
    void unsubscribe(std::uint32_t sub, bool send_left);
    bool nick_in_room(std::uint32_t ni, std::uint32_t ri, std::uint32_t except_sub) const;
    Errc store(std::uint32_t ri, std::string_view from, MsgKind kind, std::string_view text,
               std::string_view data_json, std::string_view cid, PostResult& out, std::string_view origin = {});
    void note_read(std::uint32_t ri, std::string_view nick, std::uint64_t seq);

    // bots.cpp
    void init_bots();

    // devices.cpp: a device message is checked before it is stored, taken
    // into the store after; the sweep says who went quiet.
    Errc check_reading(std::uint32_t ri, std::string_view from, std::string_view data_json, const char*& why) const;
    // took_reading returns the device's slot in the store.
    std::uint32_t took_reading(std::uint32_t ri, std::string_view from, std::uint64_t ts, std::string_view data_json);
    void save_device(std::uint32_t i);
    // Room slot `ri` starts a new history: its devices are forgotten, in
    // the store and in the journal.
    void forget_devices(std::uint32_t ri);
    bool sweep_devices(std::uint64_t now);
    // The system message of a device going quiet or coming back: `text` for
    // people, data {"device":name,"state":state} for the page and bots.
    void post_device_state(std::uint32_t ri, std::string_view name, std::string_view text, const char* state);

    // room_events.cpp: welcome and joined, written when the socket is
    // writable; `sub` is the subscription whose joined is pending.
    void write_welcome(std::uint32_t si, JsonWriter& w) const;
    void write_joined(std::uint32_t sub, JsonWriter& w) const;

    // fanout.cpp: queued events, frames, closes
    bool queue(std::uint32_t si, std::string_view event_json);
    // The answer to a session's own frame (ack, error, pong, left): queued,
    // or, should it not fit after all, the session is closed 4008 (it
    // reconnects and retries with its cid) rather than left without one.
    void reply(std::uint32_t si, std::string_view event_json);
    // Events a full control buffer may drop (counted) instead of culling
    // the session: typing, and read receipts (advisory; joined.reads has
    // them). Everything else must arrive.
    enum class Droppable : std::uint8_t { no, typing, read };
    void queue_to_room(std::uint32_t ri, std::string_view event_json, std::uint32_t except_nick,
                       Droppable drop = Droppable::no);
    void wake(std::uint32_t si);
    // Every close the broker decides (a slow consumer, policy, shutdown):
    // `bye {code, reason}` is queued (a slow consumer's queue is dropped
    // first), the session stops receiving, and it closes once written.
    void begin_close(std::uint32_t si, CloseCode code, const char* reason);
    void after_append(std::uint32_t ri);
    std::uint32_t pending_msgs(std::uint32_t si, std::uint32_t cap) const;

    CoreLimits limits_;
    Clock& clock_;
    Random& random_;
    Transport& transport_;
    Authorizer* auth_ = nullptr;
    Journal* journal_ = nullptr;
    Decoder decoder_;
    TimerHeap timers_;
    TimerHandler timer_handlers_[kTimerKinds] = {};

    std::vector<Room> rooms_;
    std::vector<std::unique_ptr<RoomRing>> rings_;        // people's, per room slot
    std::vector<std::unique_ptr<RoomRing>> device_rings_; // the devices', per room slot
    std::vector<std::unique_ptr<RoomHistory>> histories_;
    std::vector<ReadMark> reads_;
    std::vector<Session> sessions_;
    ZeroTable<Subscription> subs_;
    std::unique_ptr<char[]> control_; // untouched until used: RSS follows use
    std::size_t control_size_ = 0;
    std::vector<Nick> nicks_;
    std::unique_ptr<char[]> keys_;
    std::size_t keys_size_ = 0;
    DeviceStore devices_;
    std::vector<char> device_buf_; // one device record for the journal
    ZeroTable<Reminder> reminders_;    // max_reminders (all zero: unused)
    ZeroTable<Watch> watches_;         // max_watches
    ZeroTable<RoomBots> room_bots_;    // one per room slot (an empty `room`: unused)
    std::uint32_t sweep_timer_ = 0;    // the bots' sweep, while armed
    // The bridge: off while origin_ is empty.
    static constexpr std::uint32_t kBridgeOrigins = 16; // other Roosts tracked for duplicates
    struct BridgeSeen {
        char origin[65];
        char oepoch[17];
        std::uint64_t seq; // the newest seq seen from that origin's history of this room
    };
    std::string bridge_origin_;
    std::vector<std::string> bridge_rooms_;
    std::vector<std::uint64_t> bridge_cursor_; // per room slot: the next seq to consider
    ZeroTable<BridgeMark> bridge_marks_;       // per room slot: the cursor as the journal keeps it
    std::vector<BridgeSeen> bridge_seen_;      // per room slot x kBridgeOrigins
    std::vector<char> bridge_buf_;             // one payload
    std::vector<char> frame_;   // headroom + one batched frame
    std::vector<char> encode_;  // one encoded event
    std::uint32_t sessions_open_ = 0;
    std::uint64_t join_counter_ = 0;
    std::size_t reserved_ = 0;
    Stats stats_;
};

} // namespace roost
