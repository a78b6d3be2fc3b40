// Runtime: the state the lws callbacks share (one event loop, one thread):
// the core, the settings, the TLS material, the session-to-socket map, a
// fixed pool of request buffers and the counters /metrics reports. Created
// once by Server::start and reached from a callback through the context's
// user pointer.
#pragma once

#include "broker/broker.h"
#include "broker/rate_limit.h"
#include "broker/reserve.h"
#include "platform/settings.h"
#include "platform/certs.h"
#include "platform/conn.h"
#include "platform/free_list.h"
#include "platform/http_rules.h"
#include "platform/journal.h"
#include "platform/mqtt_bridge.h"

#include <cstdint>
#include <memory>
#include <vector>

struct lws;

namespace roost {

// A fixed set of equal buffers, lent to one request or frame at a time
// (reassembling a fragmented WebSocket frame, an HTTP body, a response).
// Nothing is allocated after construction; when every buffer is lent the
// borrower is refused (503 / close) instead of growing. The storage is
// default-initialized: resident only once lent and written.
class BufferPool {
public:
    BufferPool(std::uint32_t count, std::uint32_t size)
        : size_(size), storage_(new char[std::size_t{count} * size]), free_(count) {}
    // A buffer index, or -1 when all are lent.
    int acquire() { return free_.take(); }
    void release(int index) { free_.put(index); }
    char* data(int index) { return &storage_[static_cast<std::size_t>(index) * size_]; }
    std::uint32_t size() const { return size_; }
    std::size_t in_use() const { return free_.in_use(); }

private:
    std::uint32_t size_;
    std::unique_ptr<char[]> storage_;
    FreeList free_;
};

// HttpScratch for every connection slot (see FreeList: only as many entries
// as requests were ever served at once are written and resident).
class ScratchPool {
public:
    explicit ScratchPool(std::size_t count) : storage_(new HttpScratch[count == 0 ? 1 : count]), free_(count) {}
    // An index, or -1 when every entry is lent.
    int acquire() { return free_.take(); }
    void release(int index) { free_.put(index); }
    HttpScratch& at(int index) { return storage_[static_cast<std::size_t>(index)]; }
    std::size_t in_use() const { return free_.in_use(); }

private:
    std::unique_ptr<HttpScratch[]> storage_;
    FreeList free_;
};

// Bytes /metrics needs besides its per-room lines (about 60 series).
inline constexpr std::uint32_t kMetricsFixed = 16 * 1024;

// Bytes of /metrics' line of one device, and of one of its values: the
// series' name and labels (70 bytes at most), room, device and key names
// at their longest (none needs escaping), a value of 24.
inline constexpr std::uint32_t kMetricsDeviceLine = static_cast<std::uint32_t>(96 + kRoomNameMax + kNickMax);
inline constexpr std::uint32_t kMetricsValueLine = static_cast<std::uint32_t>(96 + kRoomNameMax + 2 * kNickMax);

// Requests served at once: each holds one pool buffer while it is answered.
inline constexpr std::uint32_t kPoolBuffers = 16;

struct Counters {
    std::uint64_t http_requests = 0, http_errors = 0, http_posts = 0, http_rate_limited = 0;
    std::uint64_t ws_accepted = 0, ws_refused = 0, ws_closed_too_large = 0;
    std::uint64_t sse_streams = 0, sse_events = 0;
    std::uint64_t tls_handshake_failures = 0, origin_refused = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t hello_timeouts = 0; // WebSockets closed for saying no hello in time
    std::uint64_t rx_paused = 0;      // times a session's reading paused for its answers to drain
};

// The configured tokens, as the core asks about them (WebSocket hello, join,
// say). No tokens configured: everyone may do everything.
class TokenGate final : public Authorizer {
public:
    explicit TokenGate(const Settings& s) : settings_(s) {}
    std::int32_t grant(std::string_view token) override;
    bool allows(std::int32_t grant, std::string_view room, bool write) override;

private:
    const Settings& settings_;
};

// What Runtime reserves besides the core (the request buffers and
// scratches), as parts of the start-up reservation (broker/reserve.h).
std::vector<ReservePart> platform_reserve(const Settings& s);

class Runtime final : public Transport {
public:
    Runtime(const Settings& settings, const TlsMaterial& tls, Clock& clock, Random& random);

    // Accept-time admission (see conn_slots): true to take the connection.
    bool admit(const std::uint8_t addr[16], bool on_tls);
    void on_wsi_create(struct lws* wsi);
    void on_instantiated(struct lws* wsi);
    void on_wsi_destroy(struct lws* wsi);

    // Transport: the core asks for a write (a writable callback, unless one
    // is pending: see write_asked), or says a room got a message.
    void wake(SessionId s) override;
    void stored(std::uint32_t room) override;

    // fsync = always: syncs the journal if it holds unsynced writes, so the
    // reply about to be written acknowledges only durable history. Every
    // write path that can carry an ack calls it first: one sync serves every
    // message stored since the last one (group commit). False while the disk
    // refuses syncs: the caller writes nothing now (no ack may leave for
    // data the disk refused) and is woken when a retry succeeds
    // (journal_synced).
    [[nodiscard]] bool durable();
    // The outcome of a journal sync: logs the change between failing and
    // working (once each way), and when the disk takes writes again wakes
    // every connection whose answers waited for it.
    void journal_synced(bool ok);

    // A WebSocket or post refused for its Origin: one log line a minute at
    // most, saying how to allow a name the page is really served under.
    void log_refused_origin(const char* origin);

    const Settings& settings;
    const TlsMaterial& tls;
    OriginPolicy origins; // set by Server::start once the ports are bound
    Clock& clock;
    TokenGate gate;
    Broker broker;
    std::unique_ptr<DiskJournal> journal; // with a data directory
    MqttBridge mqtt;                      // enabled by the mqtt setting
    Decoder post_decoder;   // JSON bodies of HTTP posts
    AddressLimiter limiter; // HTTP posts per source address
    std::vector<struct lws*> session_wsi; // by SessionId - 1
    // By SessionId - 1: a writable callback was asked for and has not come
    // yet. The core wakes every member for every message; asking lws again
    // while one is pending costs a call into lws and libuv per member per
    // message for nothing (a room of 1,000: a million calls a second).
    std::vector<std::uint8_t> write_asked;
    BufferPool pool;
    ScratchPool scratch;
    Counters counters;
    // SSE streams waiting for a room: a fixed list of sockets per room slot.
    std::vector<std::vector<struct lws*>> sse_by_room;
    // Every accepted connection holds a slot (its source address) from
    // accept to close: max_connections of them, plus kOverflowSlots more so
    // the next few get a 503 or a refused upgrade instead of a reset.
    // Beyond those, and beyond max_per_address from one address, the
    // connection is closed at accept.
    static constexpr std::uint32_t kOverflowSlots = 32;
    // Descriptors the broker keeps besides its connections: listeners,
    // journal, MQTT link, lws's event pipe and epoll, the C library's.
    static constexpr std::uint32_t kOwnFiles = 64;
    struct ConnSlot {
        bool used = false;
        std::uint8_t addr[16] = {};
        struct lws* wsi = nullptr;
        bool tls = false;    // accepted on the TLS listener
        bool served = false; // a complete request (HTTP or upgrade) arrived
        std::uint64_t accepted_ms = 0;
    };
    // Marks the connection's slot: a request arrived (so its TLS handshake
    // succeeded).
    void note_request(struct lws* wsi);
    std::uint64_t last_tls_log_ms = 0, tls_log_suppressed = 0;
    std::uint64_t last_origin_log_ms = 0, origin_log_suppressed = 0;
    void release_slot(ConnSlot& slot);
    void tls_closed_unserved(const ConnSlot& slot);
    std::vector<ConnSlot> conn_slots;
    int accepting = -1;            // the slot of the connection being adopted now
    std::uint32_t connections = 0; // slots in use
    std::uint64_t refused_per_address = 0, refused_full = 0;
    struct lws_context* context = nullptr;
    bool shutting_down = false;
    bool waiting_for_disk = false; // some answer is held until a sync succeeds
    bool journal_failing_logged = false;
};

} // namespace roost
