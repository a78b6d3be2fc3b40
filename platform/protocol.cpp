// The lws callback: it turns lws events into core calls and does nothing
// else. HTTP goes to http_api.cpp; WebSocket frames go to the core
// (Broker::on_frame) and leave only in the WRITEABLE callback, straight
// from the core's frames (Broker::next_frame).
#include "platform/conn.h"
#include "platform/http_lws.h"
#include "platform/runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace roost {

// WRITEABLE hands the core's frames to lws_write() in place, which writes its
// framing into the LWS_PRE bytes before them: the core keeps `headroom` bytes
// free there (broker/ring.h), so it must be at least LWS_PRE.
static_assert(CoreLimits{}.headroom >= LWS_PRE, "the core's frame headroom must cover lws's LWS_PRE");

namespace {

Runtime& runtime_of(struct lws* wsi) { return *static_cast<Runtime*>(lws_context_user(lws_get_context(wsi))); }

// Cross-site WebSocket hijacking and DNS rebinding: a browser always sends
// Origin, and it must be the page as served from this machine's own names
// and addresses (or the origins setting): comparing it with the request's
// Host would let a page on a rebound name in. No Origin (devices, scripts):
// allowed.
bool origin_allowed(Runtime& rt, struct lws* wsi) {
    char origin[256];
    const int n = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
    if (n == 0) {
        return true;
    }
    if (n > 0 && rt.origins.allowed(std::string_view(origin, static_cast<std::size_t>(n)))) {
        return true;
    }
    rt.log_refused_origin(n > 0 ? origin : "(too long)");
    return false;
}

int ws_filter(Runtime& rt, struct lws* wsi) {
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || std::strcmp(uri, "/ws") != 0) {
        rt.counters.ws_refused++;
        return 1; // WebSocket only on /ws
    }
    if (!origin_allowed(rt, wsi)) {
        rt.counters.ws_refused++;
        return 1;
    }
    if (rt.shutting_down || rt.connections > rt.settings.max_connections) {
        rt.counters.ws_refused++;
        return 1;
    }
    return 0;
}

int ws_established(Runtime& rt, struct lws* wsi, Conn& c) {
    c.kind = ConnKind::ws;
    peer_address(wsi, c.addr);
    c.sid = rt.broker.open_session(c.addr);
    if (c.sid == 0) {
        rt.counters.ws_refused++;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, reinterpret_cast<unsigned char*>(const_cast<char*>("server busy")), 11);
        return -1;
    }
    rt.counters.ws_accepted++;
    rt.session_wsi[c.sid - 1] = wsi;
    rt.write_asked[c.sid - 1] = 0;
    c.rx_paused = false;
    // A socket that never says hello must not keep its session slot.
    lws_set_timer_usecs(wsi, static_cast<lws_usec_t>(rt.settings.handshake_timeout_s) * LWS_US_PER_SEC);
    return 0;
}

int ws_timer(Runtime& rt, Conn& c) {
    if (c.sid != 0 && !rt.broker.said_hello(c.sid)) {
        rt.counters.hello_timeouts++;
        rt.broker.shut(c.sid, CloseCode::policy, "no hello within handshake_timeout_s");
    }
    return 0;
}

// Backpressure: while the session's answers (acks, errors) are waiting to
// be written, its next frames are not read, so every frame's answer fits
// (Broker::can_take_frame). Reading resumes once WRITEABLE drained them.
void pace_reading(Runtime& rt, struct lws* wsi, Conn& c) {
    const bool room = rt.broker.can_take_frame(c.sid);
    if (room == c.rx_paused) {
        c.rx_paused = !room;
        lws_rx_flow_control(wsi, room ? 1 : 0);
        if (!room) rt.counters.rx_paused++;
    }
}

void release_frag(Runtime& rt, Conn& c) {
    if (c.frag_slot != 0) {
        rt.pool.release(c.frag_slot - 1);
        c.frag_slot = 0;
    }
    c.frag_len = 0;
}

int close_with(struct lws* wsi, std::uint16_t code, const char* reason) {
    lws_close_reason(wsi, static_cast<enum lws_close_status>(code),
                     reinterpret_cast<unsigned char*>(const_cast<char*>(reason)), std::strlen(reason));
    return -1;
}

// One piece of a client frame. Whole frames that arrive in one piece go to
// the core straight from lws's buffer; others are reassembled in a pool
// buffer, up to max_frame (beyond: close 1009).
int ws_receive(Runtime& rt, struct lws* wsi, Conn& c, const char* in, std::size_t len) {
    rt.counters.bytes_in += len;
    const bool first = lws_is_first_fragment(wsi) != 0;
    const bool last = lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0;
    const std::uint32_t max = rt.settings.limits.max_frame;
    // Binary frames are read like text ones: many client libraries send
    // bytes as binary; the core checks UTF-8 and JSON either way.
    if (first && last && c.frag_len == 0) {
        if (len > max) {
            rt.counters.ws_closed_too_large++;
            return close_with(wsi, 1009, "frame too large");
        }
        rt.broker.on_frame(c.sid, in, len);
        pace_reading(rt, wsi, c);
        return 0;
    }
    if (c.frag_len + len > max) {
        release_frag(rt, c);
        rt.counters.ws_closed_too_large++;
        return close_with(wsi, 1009, "frame too large");
    }
    if (c.frag_slot == 0) {
        const int b = rt.pool.acquire();
        if (b < 0) {
            return close_with(wsi, 1008, "server busy");
        }
        c.frag_slot = b + 1;
    }
    std::memcpy(rt.pool.data(c.frag_slot - 1) + c.frag_len, in, len);
    c.frag_len += static_cast<std::uint32_t>(len);
    if (last) {
        rt.broker.on_frame(c.sid, rt.pool.data(c.frag_slot - 1), c.frag_len);
        release_frag(rt, c);
        pace_reading(rt, wsi, c);
    }
    return 0;
}

int ws_writeable(Runtime& rt, struct lws* wsi, Conn& c) {
    if (c.close_started || c.sid == 0) {
        // lws is sending the close frame and waiting for the client's; a
        // writable callback asked for earlier must not close again: that
        // would drop the connection at once, and the client's next frame
        // would meet a reset that can swallow the close frame (1006).
        return 0;
    }
    rt.write_asked[c.sid - 1] = 0; // this is the callback that was asked for
    const std::uint16_t code = rt.broker.close_code(c.sid);
    if (c.bye_written) {
        // lws calls WRITEABLE only once what it buffered of earlier frames
        // (the bye) is on the wire: now the close frame.
        c.close_started = true;
        return close_with(wsi, code, code == 4008 ? "slow consumer" : code == 1001 ? "shutdown" : "policy");
    }
    // fsync = always: nothing leaves that acknowledges unsynced history;
    // while the disk refuses syncs, nothing leaves (journal_synced wakes us).
    if (!rt.durable()) return 0;
    Frame f;
    if (rt.broker.next_frame(c.sid, f)) {
        // The core guarantees LWS_PRE (its headroom) writable bytes before f.data.
        if (lws_write(wsi, reinterpret_cast<unsigned char*>(f.data), f.len, LWS_WRITE_TEXT) < static_cast<int>(f.len)) {
            return -1;
        }
    }
    if (c.rx_paused) pace_reading(rt, wsi, c);
    if (rt.broker.has_pending(c.sid)) {
        rt.wake(c.sid);
        return 0;
    }
    if (code != 0) {
        c.bye_written = true;
        rt.wake(c.sid);
    }
    return 0;
}

void ws_closed(Runtime& rt, Conn& c) {
    release_frag(rt, c);
    if (c.sid != 0) {
        rt.session_wsi[c.sid - 1] = nullptr;
        rt.broker.close_session(c.sid);
        c.sid = 0;
    }
}

int callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in, std::size_t len) {
    struct lws_context* ctx = lws_get_context(wsi);
    if (ctx == nullptr || lws_context_user(ctx) == nullptr) {
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
    Runtime& rt = runtime_of(wsi);
    Conn* c = static_cast<Conn*>(user);
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
        std::uint8_t addr[16];
        address_of(static_cast<const lws_filter_network_conn_args*>(user)->cli_addr, addr);
        // The listener's vhost says whether a TLS handshake comes next.
        const char* vh = lws_get_vhost_name(lws_get_vhost(wsi));
        return rt.admit(addr, vh != nullptr && std::strcmp(vh, "https") == 0) ? 0 : 1;
    }
    case LWS_CALLBACK_WSI_CREATE:
        rt.on_wsi_create(wsi);
        return 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        rt.on_instantiated(wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        rt.on_wsi_destroy(wsi);
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c != nullptr) {
            LwsExchange ex(wsi);
            http_closed(rt, ex, *c);
        }
        return 0;
    case LWS_CALLBACK_HTTP: {
        rt.note_request(wsi);
        LwsExchange ex(wsi);
        return http_request(rt, ex, *c, static_cast<const char*>(in));
    }
    case LWS_CALLBACK_HTTP_BODY: {
        LwsExchange ex(wsi);
        return http_body(rt, ex, *c, static_cast<const char*>(in), len);
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        LwsExchange ex(wsi);
        return http_body_done(rt, ex, *c);
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        LwsExchange ex(wsi);
        return http_writeable(rt, ex, *c);
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        rt.note_request(wsi);
        return ws_filter(rt, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(rt, wsi, *c);
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(rt, wsi, *c, static_cast<const char*>(in), len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(rt, wsi, *c);
    case LWS_CALLBACK_CLOSED:
        ws_closed(rt, *c);
        return 0;
    case LWS_CALLBACK_TIMER: {
        if (c == nullptr) return 0;
        LwsExchange ex(wsi);
        return c->kind == ConnKind::ws ? ws_timer(rt, *c) : http_timer(rt, ex, *c);
    }
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

} // namespace

void peer_address(struct lws* wsi, std::uint8_t out[16]) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = lws_get_socket_fd(wsi);
    if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        std::memset(out, 0, 16);
        return;
    }
    address_of(ss, out);
}

void address_of(const sockaddr_storage& ss, std::uint8_t out[16]) {
    std::memset(out, 0, 16);
    if (ss.ss_family == AF_INET6) {
        std::memcpy(out, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, 16);
    } else if (ss.ss_family == AF_INET) {
        out[10] = 0xff;
        out[11] = 0xff;
        std::memcpy(out + 12, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, 4);
    }
}

struct lws_protocols roost_protocol() {
    // rx_buffer_size 4 KiB (lws's default, made explicit): lws reads at most
    // this much from a WebSocket per pass, so it sets how many messages a
    // publisher's read brings in before the members' writes, i.e. how large
    // the batches get (room of 100: 1 KiB -> 870k deliveries per server
    // CPU-second, 4 KiB -> 1.5M). Frames larger than one piece are
    // reassembled above, in the pool. The buffers live in the RxArena, where
    // they cost RSS only once lws writes into them.
    return {"roost.v1", callback, sizeof(Conn), kWsRxBuffer, 0, nullptr, 0};
}

} // namespace roost
