// Conn: the per-connection state lws keeps for Roost's one protocol
// (lws zeroes it for every new connection). One connection is, in turn, an
// HTTP request, then possibly a WebSocket session or a Server-Sent Events
// stream; the fields of each phase are grouped below. The *_slot fields name
// an entry of a Runtime pool as its index + 1, so that the zeroes lws fills a
// new Conn with read "none".
#pragma once

#include "broker/broker.h"
#include "platform/http_exchange.h"

#include <libwebsockets.h>

#include <cstddef>
#include <cstdint>

namespace roost {

class Runtime;

enum class ConnKind : std::uint8_t { http, ws, sse };

// What an HTTP request needs while it is served, kept out of Conn (which
// every WebSocket carries for its whole life): lent by Runtime::scratch from
// the request's start to its end.
struct HttpScratch {
    char small[384]; // short bodies (errors, acks, /healthz)
    char room[kAnyRoomNameMax + 1];
    char from[kNickMax + 1];
    char cid[kMaxCidBound + 1];
};

struct Conn {
    ConnKind kind;
    std::uint8_t addr[16];

    // An HTTP response being written: headers go out first, then `body`
    // (which lives in a pool buffer, the request's HttpScratch, or static
    // storage) in chunks. `head`: a HEAD request (headers only).
    // `close_after`: an error answered while the request's framing is
    // unknown (no, or a refused, Content-Length): the connection closes
    // after the answer instead of reading what follows as a request.
    bool head, close_after;
    unsigned status;
    int buf_slot;               // Runtime::pool buffer index + 1 (0 = none)
    std::uint32_t scratch_slot; // Runtime::scratch index + 1 (0 = none), for one request
    const char* body;
    std::uint32_t size, sent;

    // fsync = always: a post's answer (in the scratch) held for the sync.
    unsigned held_status;
    std::uint32_t held_len;

    // A POST body being received (its room, sender and key in the scratch).
    bool posting, post_json;
    std::uint32_t body_len;

    // WebSocket: the core's session and a frame being reassembled.
    // `rx_paused`: reading stopped until the session's answers drain
    // (Broker::can_take_frame).
    SessionId sid;
    bool rx_paused;
    int frag_slot;      // Runtime::pool buffer index + 1 (0 = none): the frame so far
    std::uint32_t frag_len;
    bool bye_written;   // the core's last frame is out; close at the next WRITEABLE
    bool close_started; // the close frame is lws's now: WRITEABLE has nothing more to do

    // Server-Sent Events: the room and the next seq to send.
    std::uint32_t sse_room;
    std::uint64_t sse_next;
    char sse_epoch[kEpochLen + 1];

    // A streamed answer (http_devices.cpp: a room's devices, a series),
    // written in pieces from WRITEABLE: what it lists and where it got to.
    std::uint8_t stream; // 0: none (DeviceStream)
    std::uint32_t stream_room, stream_device, stream_series, stream_archive;
    std::uint64_t stream_next, stream_last;
    char stream_epoch[kEpochLen + 1];
};

// The one lws protocol ("roost.v1"): HTTP, WebSocket and SSE on every vhost.
// The most lws reads from a WebSocket per pass, and the size of the receive
// buffer it keeps for each (see roost_protocol() and rx_arena.h).
inline constexpr std::size_t kWsRxBuffer = 4096;

struct lws_protocols roost_protocol();

// http_api.cpp: everything HTTP (page, API, SSE, health, metrics), each
// call about the request of one connection, reached through `ex`.
int http_request(Runtime& rt, HttpExchange& ex, Conn& c, const char* path);
int http_body(Runtime& rt, HttpExchange& ex, Conn& c, const char* in, std::size_t len);
int http_body_done(Runtime& rt, HttpExchange& ex, Conn& c);
int http_writeable(Runtime& rt, HttpExchange& ex, Conn& c);
// The request's time (handshake_timeout_s from its start) ran out.
int http_timer(Runtime& rt, HttpExchange& ex, Conn& c);
void http_closed(Runtime& rt, HttpExchange& ex, Conn& c);

// The peer's address as 16 bytes (IPv4 mapped into IPv6).
void peer_address(struct lws* wsi, std::uint8_t out[16]);
void address_of(const struct sockaddr_storage& ss, std::uint8_t out[16]);

// Writes a JSON error {"error":{"code","message"}} with `status`.
int http_error(Runtime& rt, HttpExchange& ex, Conn& c, unsigned status, const char* code, const char* message);

} // namespace roost
