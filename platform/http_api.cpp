// Everything HTTP: the packed page, /ca.crt, the HTTP API of the contract
// (post, history, room list, Server-Sent Events), /healthz and /metrics.
// Bodies are built into a pool buffer (or Conn::small) and written in
// chunks from the WRITEABLE callback; errors are JSON {"error":{code,message}}.
#include "broker/json_writer.h"
#include "broker/names.h"
#include "broker/utf8.h"
#include "broker/version.h"
#include "platform/assets.h"
#include "platform/conn.h"
#include "platform/os.h"
#include "platform/journal.h"
#include "platform/runtime.h"
#include "platform/rx_arena.h"
#include "platform/tls_memory.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace roost {

namespace {

constexpr std::size_t kChunk = 4096;

// Starts a response: status line and headers now, the body from WRITEABLE.
int respond(struct lws* wsi, Conn& c, unsigned status, const char* type, const char* body, std::size_t size,
            const char* cache = "no-store", const char* extra_name = nullptr, const char* extra_value = nullptr) {
    unsigned char buf[LWS_PRE + 1024];
    unsigned char* start = &buf[LWS_PRE];
    unsigned char* p = start;
    unsigned char* end = &buf[sizeof buf - 1];
    c.status = status;
    c.body = body;
    c.size = static_cast<std::uint32_t>(size);
    c.sent = 0;
    if (lws_add_http_common_headers(wsi, status, type, size, &p, end) != 0 ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, reinterpret_cast<const unsigned char*>(cache),
                                     static_cast<int>(std::strlen(cache)), &p, end) != 0) {
        return 1;
    }
    if (extra_name != nullptr &&
        lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(extra_name),
                                    reinterpret_cast<const unsigned char*>(extra_value),
                                    static_cast<int>(std::strlen(extra_value)), &p, end) != 0) {
        return 1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end) != 0) {
        return 1;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

void release_buf(Runtime& rt, Conn& c) {
    if (c.buf != 0) {
        rt.pool.release(c.buf - 1);
        c.buf = 0;
    }
}

// Lends the request a pool buffer until it ends (release_buf); nullptr when
// every buffer is lent (answer busy()).
char* lend_buffer(Runtime& rt, Conn& c) {
    const int b = rt.pool.acquire();
    if (b < 0) return nullptr;
    c.buf = b + 1;
    return rt.pool.data(b);
}

int busy(Runtime& rt, struct lws* wsi, Conn& c) {
    return http_error(rt, wsi, c, 503, "server_busy", "too many requests in flight");
}

// The request's scratch, lent until the request ends (release_scratch);
// nullptr only if every entry is lent (there is one per connection slot).
HttpScratch* scratch(Runtime& rt, Conn& c) {
    if (c.scratch == 0) {
        const int i = rt.scratch.acquire();
        if (i < 0) return nullptr;
        c.scratch = static_cast<std::uint32_t>(i) + 1;
    }
    return &rt.scratch.at(static_cast<int>(c.scratch) - 1);
}

void release_scratch(Runtime& rt, Conn& c) {
    if (c.scratch != 0) {
        rt.scratch.release(static_cast<int>(c.scratch) - 1);
        c.scratch = 0;
    }
}

// A JSON body written into the request's scratch (see scratch()).
int respond_small(struct lws* wsi, Conn& c, unsigned status, const HttpScratch& s, const JsonWriter& w) {
    return respond(wsi, c, status, "application/json", s.small, w.size());
}

// When not even a scratch is free: a fixed body.
int respond_unserved(struct lws* wsi, Conn& c) {
    static const char kBody[] = "{\"error\":{\"code\":\"server_busy\",\"message\":\"too many requests in flight\"}}";
    return respond(wsi, c, 503, "application/json", kBody, sizeof kBody - 1);
}

// {"error":{"code","message"}} with `status`, and one extra header if given.
int error_response(Runtime& rt, struct lws* wsi, Conn& c, unsigned status, const char* code, const char* message,
                   const char* extra_name, const char* extra_value) {
    rt.counters.http_errors++;
    HttpScratch* s = scratch(rt, c);
    if (s == nullptr) return respond_unserved(wsi, c);
    JsonWriter w(s->small, sizeof s->small);
    w.begin_object();
    w.key("error");
    w.begin_object();
    w.key("code");
    w.string(code);
    w.key("message");
    w.string(message);
    w.end_object();
    w.end_object();
    return respond(wsi, c, status, "application/json", s->small, w.size(), "no-store", extra_name, extra_value);
}

// The bearer token of the request, if tokens are configured. Returns false
// (after answering 401/403) when the request may not go on.
bool authorized(Runtime& rt, struct lws* wsi, Conn& c, std::string_view room, bool write, const TokenSpec** who,
                int& rc) {
    *who = nullptr;
    if (rt.settings.tokens.empty()) {
        return true;
    }
    char auth[256];
    const int n = lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION);
    const std::string_view a(auth, n > 0 ? static_cast<std::size_t>(n) : 0);
    const TokenSpec* t = a.size() > 7 && a.substr(0, 7) == "Bearer " ? find_token(rt.settings, a.substr(7)) : nullptr;
    if (t == nullptr) {
        rc = http_error(rt, wsi, c, 401, "unauthorized", n > 0 ? "wrong token" : "a bearer token is required");
        return false;
    }
    if (!token_allows(*t, room, write)) {
        rc = http_error(rt, wsi, c, 403, "forbidden", "this token may not use that room");
        return false;
    }
    *who = t;
    return true;
}

// "/api/rooms/{room}/{what}" -> folded room, what. False if not that shape.
bool split_room_path(std::string_view path, char* room_out, std::string_view& room, std::string_view& what,
                     bool& is_dm) {
    const std::string_view prefix = "/api/rooms/";
    if (path.substr(0, prefix.size()) != prefix) return false;
    path.remove_prefix(prefix.size());
    const std::size_t slash = path.find('/');
    if (slash == std::string_view::npos) return false;
    const std::string_view raw = path.substr(0, slash);
    what = path.substr(slash + 1);
    is_dm = is_dm_room_name(raw);
    room = fold_room_name(raw, room_out, kAnyRoomNameMax);
    return true;
}

bool url_uint(struct lws* wsi, const char* name, std::uint64_t& out, bool& present, bool& bad) {
    char buf[32];
    const int n = lws_get_urlarg_by_name_safe(wsi, name, buf, sizeof buf);
    present = n >= 0;
    if (!present) return true;
    char* end = nullptr;
    out = std::strtoull(buf, &end, 10);
    bad = n == 0 || *end != '\0' || buf[0] == '-';
    return !bad;
}

int serve_history(Runtime& rt, struct lws* wsi, Conn& c, std::uint32_t ri) {
    const Room& r = rt.broker.room(ri);
    const RoomRing& ring = *r.ring;
    std::uint64_t since = 0, limit = rt.settings.limits.backlog;
    bool has_since = false, has_limit = false, bad = false;
    url_uint(wsi, "since=", since, has_since, bad);
    if (bad) return http_error(rt, wsi, c, 400, "bad_request", "since: must be a whole number");
    url_uint(wsi, "limit=", limit, has_limit, bad);
    if (bad || limit == 0) return http_error(rt, wsi, c, 400, "bad_request", "limit: must be a whole number from 1");
    if (limit > rt.settings.limits.ring_msgs) limit = rt.settings.limits.ring_msgs;
    char epoch[32];
    const int en = lws_get_urlarg_by_name_safe(wsi, "epoch=", epoch, sizeof epoch);
    const bool epoch_ok = en < 0 || std::string_view(epoch, static_cast<std::size_t>(en)) == std::string_view(r.epoch);
    const std::uint64_t head = ring.head(), oldest = ring.oldest();
    bool recovered = false;
    std::uint64_t first;
    if (has_since && epoch_ok && since <= head) {
        recovered = since + 1 >= oldest;
        first = since + 1 < oldest ? oldest : since + 1;
    } else {
        first = head + 1 > limit ? head + 1 - limit : 1;
        if (first < oldest) first = oldest;
    }
    std::uint64_t last = first + limit - 1;
    if (last > head) last = head;
    char* out = lend_buffer(rt, c);
    if (out == nullptr) return busy(rt, wsi, c);
    JsonWriter w(out, rt.pool.size());
    w.begin_object();
    w.key("room");
    w.string(r.name.view());
    w.key("epoch");
    w.string(r.epoch);
    w.key("head");
    w.uint(head);
    w.key("oldest");
    w.uint(oldest);
    w.key("recovered");
    w.boolean(recovered);
    w.key("messages");
    w.begin_array();
    for (std::uint64_t seq = first; seq <= last && seq != 0; ++seq) {
        const char* data = nullptr;
        std::uint32_t len = 0;
        if (ring.get(seq, data, len)) w.raw({data, len});
    }
    w.end_array();
    w.end_object();
    if (!w.ok()) return http_error(rt, wsi, c, 503, "server_busy", "history too large for the response buffer");
    return respond(wsi, c, 200, "application/json", out, w.size());
}

int serve_rooms(Runtime& rt, struct lws* wsi, Conn& c) {
    char* out = lend_buffer(rt, c);
    if (out == nullptr) return busy(rt, wsi, c);
    JsonWriter w(out, rt.pool.size());
    w.begin_object();
    w.key("rooms");
    w.begin_array();
    for (std::uint32_t i = 0; i < rt.broker.room_slots(); ++i) {
        const Room& r = rt.broker.room(i);
        if (!r.used || r.dm) continue;
        w.begin_object();
        w.key("room");
        w.string(r.name.view());
        w.key("members");
        w.uint(r.members);
        w.key("head");
        w.uint(r.ring->head());
        w.key("oldest");
        w.uint(r.ring->oldest());
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return respond(wsi, c, 200, "application/json", out, w.size());
}

int serve_health(Runtime& rt, struct lws* wsi, Conn& c) {
    HttpScratch* s = scratch(rt, c);
    if (s == nullptr) return respond_unserved(wsi, c);
    JsonWriter w(s->small, sizeof s->small);
    w.begin_object();
    w.key("status");
    w.string("ok");
    w.key("version");
    w.string(ROOST_VERSION);
    w.key("rooms");
    w.uint(rt.broker.room_count());
    w.key("sessions");
    w.uint(rt.broker.session_count());
    w.key("connections");
    w.uint(rt.connections);
    w.key("persistence");
    w.string(rt.journal == nullptr ? "memory" : rt.settings.fsync);
    w.key("mqtt");
    w.string(MqttBridge::state_name(rt.mqtt.state()));
    w.end_object();
    return respond_small(wsi, c, 200, *s, w);
}

int serve_metrics(Runtime& rt, struct lws* wsi, Conn& c) {
    char* out = lend_buffer(rt, c);
    if (out == nullptr) return busy(rt, wsi, c);
    const std::size_t cap = rt.pool.size();
    std::size_t n = 0;
    auto line = [&](const char* name, const char* help, const char* type, std::uint64_t v) {
        if (n < cap) {
            const int k = std::snprintf(out + n, cap - n, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name,
                                        type, name, static_cast<unsigned long long>(v));
            n += k > 0 ? static_cast<std::size_t>(k) : 0;
        }
    };
    const Broker::Stats& s = rt.broker.stats();
    const Counters& k = rt.counters;
    line("roost_connections", "Open connections (HTTP, WebSocket, SSE).", "gauge", rt.connections);
    line("roost_sessions", "Open WebSocket sessions.", "gauge", rt.broker.session_count());
    line("roost_rooms", "Rooms in use.", "gauge", rt.broker.room_count());
    line("roost_messages_in_total", "Client frames received.", "counter", s.messages_in);
    line("roost_deliveries_total", "Messages delivered to sessions.", "counter", s.deliveries);
    line("roost_frames_out_total", "WebSocket frames written.", "counter", s.frames_out);
    line("roost_batches_total", "Frames that carried several events.", "counter", s.batches);
    line("roost_bytes_out_total", "WebSocket payload bytes written.", "counter", s.bytes_out);
    line("roost_bytes_in_total", "WebSocket payload bytes received.", "counter", k.bytes_in);
    line("roost_culled_slow_total", "Sessions closed 4008 (slow consumer).", "counter", s.culled_slow);
    line("roost_closed_abuse_total", "Sessions closed 1008 (errors, flooding).", "counter", s.closed_abuse);
    line("roost_closed_too_large_total", "Sessions closed 1009 (frame too large).", "counter", k.ws_closed_too_large);
    auto labelled = [&](const char* name, const char* help, const char* label, const char* const* values,
                        const std::uint64_t* counts, std::size_t count) {
        if (n < cap) {
            const int w = std::snprintf(out + n, cap - n, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
            n += w > 0 ? static_cast<std::size_t>(w) : 0;
        }
        for (std::size_t i = 0; i < count && n < cap; ++i) {
            const int w = std::snprintf(out + n, cap - n, "%s{%s=\"%s\"} %llu\n", name, label, values[i],
                                        static_cast<unsigned long long>(counts[i]));
            n += w > 0 ? static_cast<std::size_t>(w) : 0;
        }
    };
    const char* const refusals[] = {"per_address", "full"};
    const std::uint64_t refused[] = {rt.refused_per_address, rt.refused_full};
    labelled("roost_connections_refused_total", "Connections closed at accept.", "reason", refusals, refused, 2);
    const char* const close_reasons[] = {"slow_consumer", "abuse", "too_large"};
    const std::uint64_t closes[] = {s.culled_slow, s.closed_abuse, k.ws_closed_too_large};
    labelled("roost_closes_total", "WebSocket sessions closed by the broker, by reason.", "reason", close_reasons,
             closes, 3);
    const char* const drop_reasons[] = {"typing"};
    const std::uint64_t drops[] = {s.typing_dropped};
    labelled("roost_drops_total", "Events dropped instead of delivered, by reason.", "reason", drop_reasons, drops, 1);
    line("roost_ws_refused_total", "WebSocket upgrades refused.", "counter", k.ws_refused);
    line("roost_origin_refused_total", "WebSocket upgrades refused for their Origin.", "counter", k.origin_refused);
    line("roost_rate_limited_total", "Requests refused for rate.", "counter", s.rate_limited + k.http_rate_limited);
    line("roost_typing_dropped_total", "Typing events dropped (rate or buffer).", "counter", s.typing_dropped);
    line("roost_client_errors_total", "Protocol errors answered.", "counter", s.client_errors);
    line("roost_http_requests_total", "HTTP requests.", "counter", k.http_requests);
    line("roost_http_errors_total", "HTTP error responses.", "counter", k.http_errors);
    line("roost_sse_events_total", "Server-Sent Events written.", "counter", k.sse_events);
    line("roost_tls_handshake_failures_total", "TLS connections closed before a complete request (handshake failed, refused or timed out).", "counter", k.tls_handshake_failures);
    line("roost_memory_reserved_bytes", "Bytes the core reserved at start.", "gauge", rt.broker.reserved_bytes());
    line("roost_memory_resident_bytes", "Resident memory of the process.", "gauge", resident_bytes());
    line("roost_buffers_in_use", "Request buffers lent out.", "gauge", rt.pool.in_use());
    line("roost_http_scratch_in_use", "Requests being served (their scratch lent out).", "gauge", rt.scratch.in_use());
    line("roost_tls_record_buffers", "TLS record buffers lent out (resident only where written).", "gauge",
         tls_memory_in_use());
    line("roost_ws_receive_buffers", "WebSocket receive buffers lent out (resident only where written).", "gauge",
         rx_arena_in_use());
    line("roost_disk_full_refusals_total", "Messages and rooms refused because the journal could not write.",
         "counter", s.disk_full);
    if (rt.mqtt.enabled()) {
        const MqttBridge::Stats& m = rt.mqtt.stats();
        line("roost_mqtt_up", "1 while the MQTT bridge's link is up and subscribed.", "gauge",
             rt.mqtt.state() == MqttBridge::State::up ? 1 : 0);
        line("roost_mqtt_connects_total", "MQTT connections established.", "counter", m.connects);
        line("roost_mqtt_disconnects_total", "MQTT links lost.", "counter", m.disconnects);
        line("roost_mqtt_published_total", "Messages published to the MQTT broker (resends included).", "counter",
             m.published);
        line("roost_mqtt_received_total", "Messages from MQTT stored (other Roosts' and devices').", "counter",
             m.received);
        line("roost_mqtt_duplicates_total", "Messages from MQTT dropped as already stored (ours or seen).", "counter",
             s.bridge_duplicates);
        line("roost_mqtt_missed_total", "Own messages that left the ring before the bridge could publish them.",
             "counter", s.bridge_missed);
        line("roost_mqtt_dropped_bad_json_total", "MQTT payloads dropped: not valid JSON.", "counter", m.dropped_json);
        line("roost_mqtt_dropped_bad_utf8_total", "MQTT payloads dropped: not valid UTF-8.", "counter", m.dropped_utf8);
        line("roost_mqtt_dropped_too_large_total", "MQTT payloads dropped: too large.", "counter", m.dropped_size);
        line("roost_mqtt_dropped_topic_total", "MQTT payloads dropped: not a bridged room's topic.", "counter",
             m.dropped_topic);
        line("roost_mqtt_dropped_other_total", "MQTT payloads dropped: refused otherwise (bad fields, full tables).",
             "counter", m.dropped_other);
    }
    if (const DiskJournal* j = rt.journal.get(); j != nullptr) {
        const DiskJournal::Stats& js = j->stats();
        line("roost_journal_records_total", "Messages written to the journal.", "counter", js.records);
        line("roost_journal_bytes_total", "Bytes written to the journal files (records, headers, state).", "counter",
             js.bytes);
        line("roost_journal_syncs_total", "fdatasync calls (group commits).", "counter", js.syncs);
        line("roost_journal_write_errors_total", "Journal writes or syncs that failed (disk full, I/O error).",
             "counter", js.write_errors);
        line("roost_journal_damaged_records", "Records dropped as damaged at start-up.", "gauge", js.damaged);
        line("roost_journal_file_bytes", "Fixed size of the journal files.", "gauge", j->file_bytes());
    }
    if (n < cap) {
        const int k2 = std::snprintf(out + n, cap - n, "# HELP roost_ring_fill Messages held per room.\n# TYPE roost_ring_fill gauge\n");
        n += k2 > 0 ? static_cast<std::size_t>(k2) : 0;
    }
    for (std::uint32_t i = 0; i < rt.broker.room_slots() && n < cap; ++i) {
        const Room& r = rt.broker.room(i);
        if (!r.used || r.dm) continue;
        const int k3 = std::snprintf(out + n, cap - n, "roost_ring_fill{room=\"%s\"} %u\n", r.name.buf, r.ring->count());
        n += k3 > 0 ? static_cast<std::size_t>(k3) : 0;
    }
    if (n > cap) n = cap;
    return respond(wsi, c, 200, "text/plain; version=0.0.4", out, n);
}

int begin_sse(Runtime& rt, struct lws* wsi, Conn& c, std::uint32_t ri) {
    const Room& r = rt.broker.room(ri);
    auto& list = rt.sse_by_room[ri];
    if (list.size() >= list.capacity()) {
        return http_error(rt, wsi, c, 503, "server_busy", "too many event streams on this room");
    }
    std::uint64_t since = 0;
    bool has = false, bad = false;
    char last_id[32];
    const int n = lws_hdr_custom_length(wsi, "last-event-id:", 14) > 0
                      ? lws_hdr_custom_copy(wsi, last_id, sizeof last_id, "last-event-id:", 14)
                      : -1;
    if (n > 0) {
        char* end = nullptr;
        since = std::strtoull(last_id, &end, 10);
        has = *end == '\0';
    } else {
        url_uint(wsi, "since=", since, has, bad);
    }
    const RoomRing& ring = *r.ring;
    c.kind = ConnKind::sse;
    c.sse_room = ri;
    std::memcpy(c.sse_epoch, r.epoch, sizeof c.sse_epoch);
    c.sse_next = has ? (since + 1 < ring.oldest() ? ring.oldest() : since + 1) : ring.head() + 1;
    if (c.sse_next > ring.head() + 1) c.sse_next = ring.head() + 1;
    unsigned char buf[LWS_PRE + 512];
    unsigned char* start = &buf[LWS_PRE];
    unsigned char* p = start;
    unsigned char* end = &buf[sizeof buf - 1];
    if (lws_add_http_common_headers(wsi, 200, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) != 0 ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     reinterpret_cast<const unsigned char*>("no-cache"), 8, &p, end) != 0 ||
        lws_finalize_write_http_header(wsi, start, &p, end) != 0) {
        return 1;
    }
    list.push_back(wsi);
    rt.counters.sse_streams++;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    lws_callback_on_writable(wsi);
    return 0;
}

int sse_writeable(Runtime& rt, struct lws* wsi, Conn& c) {
    const Room& r = rt.broker.room(c.sse_room);
    if (!r.used || std::memcmp(r.epoch, c.sse_epoch, kEpochLen) != 0) {
        return -1; // the room's history is gone: the client reconnects
    }
    const RoomRing& ring = *r.ring;
    if (c.sse_next > ring.head()) return 0;
    rt.durable();
    if (c.sse_next < ring.oldest()) return -1; // fell behind the ring
    const char* data = nullptr;
    std::uint32_t len = 0;
    if (!ring.get(c.sse_next, data, len)) return -1;
    const int b = rt.pool.acquire();
    if (b < 0) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    char* out = rt.pool.data(b) + LWS_PRE;
    const int h = std::snprintf(out, 64, "event: msg\nid: %llu\ndata: ", static_cast<unsigned long long>(c.sse_next));
    std::memcpy(out + h, data, len);
    std::memcpy(out + h + len, "\n\n", 2);
    const std::size_t total = static_cast<std::size_t>(h) + len + 2;
    const int wrote = lws_write(wsi, reinterpret_cast<unsigned char*>(out), total, LWS_WRITE_HTTP);
    rt.pool.release(b);
    if (wrote < static_cast<int>(total)) return -1;
    rt.counters.sse_events++;
    c.sse_next++;
    if (c.sse_next <= ring.head()) lws_callback_on_writable(wsi);
    return 0;
}

int serve_asset(Runtime& rt, struct lws* wsi, Conn& c, const char* path) {
    if (std::strcmp(path, "/ca.crt") == 0 && !rt.tls.ca_pem.empty()) {
        return respond(wsi, c, 200, "application/x-x509-ca-cert", rt.tls.ca_pem.data(), rt.tls.ca_pem.size(),
                       "no-cache");
    }
    const Asset* a = find_asset(path);
    if (a == nullptr) return http_error(rt, wsi, c, 404, "not_found", "no such path");
    // Precompressed when the client takes gzip; revalidated by ETag.
    char accept[256] = {}, inm[64] = {};
    lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    lws_hdr_copy(wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    const bool not_modified = std::strcmp(inm, a->etag) == 0;
    const bool gz = std::strstr(accept, "gzip") != nullptr;
    const char* body = gz ? reinterpret_cast<const char*>(a->gzip) : reinterpret_cast<const char*>(a->data);
    const std::size_t size = not_modified ? 0 : gz ? a->gzip_size : a->size;
    unsigned char buf[LWS_PRE + 1024];
    unsigned char* start = &buf[LWS_PRE];
    unsigned char* p = start;
    unsigned char* end = &buf[sizeof buf - 1];
    auto header = [&](const char* name, const char* value) {
        return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name),
                                           reinterpret_cast<const unsigned char*>(value),
                                           static_cast<int>(std::strlen(value)), &p, end) == 0;
    };
    c.status = not_modified ? 304 : 200;
    c.body = body;
    c.size = static_cast<std::uint32_t>(size);
    c.sent = 0;
    if (lws_add_http_common_headers(wsi, c.status, a->content_type, size, &p, end) != 0 ||
        !header("cache-control:", "no-cache") || !header("etag:", a->etag) || !header("vary:", "Accept-Encoding") ||
        (gz && !not_modified && !header("content-encoding:", "gzip")) ||
        lws_finalize_write_http_header(wsi, start, &p, end) != 0) {
        return 1;
    }
    if (size == 0) {
        c.body = nullptr;
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

int begin_post(Runtime& rt, struct lws* wsi, Conn& c, std::string_view room) {
    char type[128] = {};
    lws_hdr_copy(wsi, type, sizeof type, WSI_TOKEN_HTTP_CONTENT_TYPE);
    const std::string_view t(type);
    if (t.substr(0, 10) == "text/plain") {
        c.post_json = false;
    } else if (t.substr(0, 16) == "application/json") {
        c.post_json = true;
    } else {
        return http_error(rt, wsi, c, 415, "unsupported_type", "send text/plain or application/json");
    }
    char len_buf[32] = {};
    if (lws_hdr_copy(wsi, len_buf, sizeof len_buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        return http_error(rt, wsi, c, 411, "bad_request", "Content-Length is required");
    }
    const unsigned long long declared = std::strtoull(len_buf, nullptr, 10);
    if (declared > rt.settings.limits.max_body) {
        return http_error(rt, wsi, c, 413, "too_large", "body larger than max_body");
    }
    if (declared == 0) {
        return http_error(rt, wsi, c, 400, "bad_request", "empty body");
    }
    const TokenSpec* who = nullptr;
    int rc = 0;
    if (!authorized(rt, wsi, c, room, true, &who, rc)) return rc;
    if (!rt.limiter.take(c.addr, rt.clock.now_ms(), rt.settings.limits.addr_rate, rt.settings.limits.addr_burst)) {
        rt.counters.http_rate_limited++;
        return error_response(rt, wsi, c, 429, "rate_limited", "slow down", "retry-after:", "1");
    }
    HttpScratch* s = scratch(rt, c);
    if (s == nullptr) return respond_unserved(wsi, c);
    if (lend_buffer(rt, c) == nullptr) return busy(rt, wsi, c);
    c.posting = true;
    c.body_len = 0;
    std::memcpy(s->room, room.data(), room.size());
    s->room[room.size()] = '\0';
    // from: ?from=, else the token's name, else "device" (a JSON body's own
    // `from` wins later).
    char from[64];
    const int fn = lws_get_urlarg_by_name_safe(wsi, "from=", from, sizeof from);
    std::string_view f = fn > 0 ? std::string_view(from, static_cast<std::size_t>(fn))
                                : who != nullptr ? std::string_view(who->name) : std::string_view("device");
    if (!nick_valid(f)) return http_error(rt, wsi, c, 400, "bad_request", "from: 1-24 of A-Z a-z 0-9 _ - .");
    std::memcpy(s->from, f.data(), f.size());
    s->from[f.size()] = '\0';
    const int kn = lws_hdr_custom_length(wsi, "idempotency-key:", 16);
    s->cid[0] = '\0';
    if (kn > 0) {
        if (kn > static_cast<int>(rt.settings.limits.max_cid) ||
            lws_hdr_custom_copy(wsi, s->cid, sizeof s->cid, "idempotency-key:", 16) < 0) {
            return http_error(rt, wsi, c, 400, "bad_request", "Idempotency-Key: 1-64 printable characters");
        }
    }
    return 0;
}

} // namespace

int http_error(Runtime& rt, struct lws* wsi, Conn& c, unsigned status, const char* code, const char* message) {
    return error_response(rt, wsi, c, status, code, message, nullptr, nullptr);
}

int http_request(Runtime& rt, struct lws* wsi, Conn& c, const char* path) {
    rt.counters.http_requests++;
    c.kind = ConnKind::http;
    release_buf(rt, c);
    c.posting = false;
    peer_address(wsi, c.addr);
    char* uri = nullptr;
    int uri_len = 0;
    const int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    if (rt.connections > rt.settings.max_connections) {
        return http_error(rt, wsi, c, 503, "server_busy", "too many connections");
    }
    const std::string_view p(path);
    char room_buf[kAnyRoomNameMax + 1];
    std::string_view room, what;
    bool is_dm = false;
    if (p == "/api/rooms") {
        if (method != LWSHUMETH_GET) return http_error(rt, wsi, c, 405, "method_not_allowed", "use GET");
        return serve_rooms(rt, wsi, c);
    }
    if (split_room_path(p, room_buf, room, what, is_dm)) {
        if (what != "messages" && what != "events") return http_error(rt, wsi, c, 404, "not_found", "no such path");
        if (is_dm) return http_error(rt, wsi, c, 403, "forbidden", "direct-message rooms are not served over HTTP");
        if (room.empty()) return http_error(rt, wsi, c, 400, "bad_request", "invalid room name");
        if (what == "messages" && method == LWSHUMETH_POST) return begin_post(rt, wsi, c, room);
        if (method != LWSHUMETH_GET) {
            return http_error(rt, wsi, c, 405, "method_not_allowed", what == "messages" ? "use GET or POST" : "use GET");
        }
        const TokenSpec* who = nullptr;
        int rc = 0;
        if (!authorized(rt, wsi, c, room, false, &who, rc)) return rc;
        const std::uint32_t ri = rt.broker.room_index_of(room);
        if (ri == kNone) return http_error(rt, wsi, c, 404, "no_such_room", "no such room");
        return what == "messages" ? serve_history(rt, wsi, c, ri) : begin_sse(rt, wsi, c, ri);
    }
    if (p.substr(0, 5) == "/api/") return http_error(rt, wsi, c, 404, "not_found", "no such path");
    if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD) {
        return http_error(rt, wsi, c, 405, "method_not_allowed", "use GET");
    }
    if (p == "/healthz") return serve_health(rt, wsi, c);
    if (p == "/metrics") return serve_metrics(rt, wsi, c);
    if (p == "/ws") return http_error(rt, wsi, c, 400, "bad_request", "/ws is a WebSocket endpoint");
    return serve_asset(rt, wsi, c, path);
}

int http_body(Runtime& rt, struct lws* wsi, Conn& c, const char* in, std::size_t len) {
    (void)wsi;
    if (!c.posting || c.buf == 0) return 0;
    if (c.body_len + len > rt.settings.limits.max_body) {
        c.posting = false;
        release_buf(rt, c);
        return http_error(rt, wsi, c, 413, "too_large", "body larger than max_body");
    }
    std::memcpy(rt.pool.data(c.buf - 1) + c.body_len, in, len);
    c.body_len += static_cast<std::uint32_t>(len);
    return 0;
}

int http_body_done(Runtime& rt, struct lws* wsi, Conn& c) {
    if (!c.posting || c.buf == 0) return 0;
    c.posting = false;
    rt.counters.http_posts++;
    const char* body = rt.pool.data(c.buf - 1);
    HttpScratch& s = rt.scratch.at(static_cast<int>(c.scratch) - 1); // lent by begin_post
    std::string_view text, data, from(s.from), cid(s.cid);
    Command cmd;
    DecodeError err;
    if (c.post_json) {
        const Errc e = rt.post_decoder.decode_post(body, c.body_len, cmd, err);
        if (e != Errc::ok) {
            release_buf(rt, c);
            return http_error(rt, wsi, c, static_cast<unsigned>(errc_http_status(e)), errc_code(e), err.message);
        }
        text = cmd.text;
        data = cmd.data_json;
        if (!cmd.nick.empty()) from = cmd.nick;
        if (!cmd.cid.empty()) cid = cmd.cid;
    } else {
        text = std::string_view(body, c.body_len);
        Errc e = Errc::ok;
        const char* why = "";
        if (!utf8_valid(text)) {
            e = Errc::bad_utf8, why = "body is not valid UTF-8";
        } else if (text.size() > rt.settings.limits.max_text) {
            e = Errc::text_too_long, why = "text longer than max_text bytes";
        } else if (text.find('\0') != std::string_view::npos) {
            e = Errc::bad_request, why = "text must not contain NUL";
        }
        if (e != Errc::ok) {
            release_buf(rt, c);
            return http_error(rt, wsi, c, 400, errc_code(e), why);
        }
    }
    PostResult r;
    const Errc e = rt.broker.post(s.room, from, MsgKind::device, text, data, cid, r);
    if (e != Errc::ok) {
        release_buf(rt, c);
        return http_error(rt, wsi, c, static_cast<unsigned>(errc_http_status(e)), errc_code(e), "not stored");
    }
    JsonWriter w(s.small, sizeof s.small);
    w.begin_object();
    w.key("room");
    w.string(s.room);
    w.key("seq");
    w.uint(r.seq);
    w.key("epoch");
    w.string(r.epoch);
    w.key("ts");
    w.uint(r.ts);
    w.end_object();
    release_buf(rt, c);
    if (rt.journal != nullptr && rt.journal->must_sync_before_reply()) {
        // fsync = always: the answer waits in the scratch for the group
        // commit at the next WRITEABLE (every post of this pass shares it).
        c.held_status = r.duplicate ? 200 : 201;
        c.held_len = static_cast<std::uint32_t>(w.size());
        lws_callback_on_writable(wsi);
        return 0;
    }
    return respond_small(wsi, c, r.duplicate ? 200 : 201, s, w);
}

int http_writeable(Runtime& rt, struct lws* wsi, Conn& c) {
    if (c.kind == ConnKind::sse) return sse_writeable(rt, wsi, c);
    if (c.held_status != 0) {
        rt.durable();
        const unsigned status = c.held_status;
        c.held_status = 0;
        const HttpScratch* s = scratch(rt, c);
        return s == nullptr ? -1 : respond(wsi, c, status, "application/json", s->small, c.held_len);
    }
    if (c.body == nullptr) return 0;
    unsigned char buf[LWS_PRE + kChunk];
    const std::size_t n = c.size - c.sent < kChunk ? c.size - c.sent : kChunk;
    std::memcpy(&buf[LWS_PRE], c.body + c.sent, n);
    c.sent += static_cast<std::uint32_t>(n);
    const bool last = c.sent == c.size;
    if (lws_write(wsi, &buf[LWS_PRE], n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != static_cast<int>(n)) {
        return 1;
    }
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    c.body = nullptr;
    release_buf(rt, c);
    release_scratch(rt, c);
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

void http_closed(Runtime& rt, struct lws* wsi, Conn& c) {
    release_buf(rt, c);
    release_scratch(rt, c);
    if (c.kind == ConnKind::sse) {
        auto& list = rt.sse_by_room[c.sse_room];
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (list[i] == wsi) {
                list[i] = list.back();
                list.pop_back();
                break;
            }
        }
        c.kind = ConnKind::http;
    }
}

} // namespace roost
