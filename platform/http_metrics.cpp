// /metrics: Prometheus text format, built into a pool buffer.
#include "platform/http.h"
#include "platform/journal.h"
#include "platform/os.h"
#include "platform/runtime.h"
#include "platform/rx_arena.h"
#include "platform/tls_memory.h"

#include <cmath>
#include <cstdio>
#include <string_view>

namespace roost {

namespace {

// Every tracked device of a room listed (the token may read it, when
// given): its numeric values and when it last posted. Returns the new
// length; cap or more when a line did not fit (the caller refuses).
std::size_t device_lines(Runtime& rt, const TokenSpec* who, char* out, std::size_t cap, std::size_t n) {
    const DeviceStore& store = rt.broker.devices();
    auto shown = [&](const Device& d) {
        if (!d.used || d.room >= rt.broker.room_slots()) return false;
        const Room& r = rt.broker.room(d.room);
        return r.used && !r.dm && (who == nullptr || token_allows(*who, r.name.view(), false));
    };
    auto text = [&](const char* s) {
        if (n < cap) {
            const int k = std::snprintf(out + n, cap - n, "%s", s);
            n += k > 0 ? static_cast<std::size_t>(k) : 0;
        }
    };
    // Room, device and key names need no escaping: their characters are
    // A-Z a-z 0-9 _ - . (names.h; a restored key is checked as a new one).
    text("# HELP roost_device_value The latest value of a device's numeric key.\n# TYPE roost_device_value gauge\n");
    for (std::uint32_t i = 0; i < store.capacity() && n < cap; ++i) {
        const Device& d = store.device(i);
        if (!shown(d)) continue;
        for (std::uint32_t k = 0; k < d.nkeys && n < cap; ++k) {
            const DeviceKey& dk = store.key(i, k);
            if (dk.type != ValueType::number || !std::isfinite(dk.number)) continue;
            const int w = std::snprintf(out + n, cap - n, "roost_device_value{room=\"%s\",device=\"%.*s\",key=\"%.*s\"} %.17g\n",
                                        rt.broker.room(d.room).name.buf, static_cast<int>(d.name_len), d.name,
                                        static_cast<int>(dk.name_len), dk.name, dk.number);
            n += w > 0 ? static_cast<std::size_t>(w) : 0;
        }
    }
    text("# HELP roost_device_last_seen_seconds When a device last posted (seconds since the epoch).\n"
         "# TYPE roost_device_last_seen_seconds gauge\n");
    for (std::uint32_t i = 0; i < store.capacity() && n < cap; ++i) {
        const Device& d = store.device(i);
        if (!shown(d)) continue;
        const int w = std::snprintf(out + n, cap - n, "roost_device_last_seen_seconds{room=\"%s\",device=\"%.*s\"} %llu.%03u\n",
                                    rt.broker.room(d.room).name.buf, static_cast<int>(d.name_len), d.name,
                                    static_cast<unsigned long long>(d.last_ms / 1000),
                                    static_cast<unsigned>(d.last_ms % 1000));
        n += w > 0 ? static_cast<std::size_t>(w) : 0;
    }
    return n;
}

} // namespace

// Without tokens configured every room's series is listed. With tokens,
// room names are for token holders only: no Authorization header gives the
// broker-wide series alone, a valid token adds the rooms it may read, and a
// wrong token is refused (Prometheus sends a bearer token when configured).
int serve_metrics(Runtime& rt, HttpExchange& ex, Conn& c) {
    const TokenSpec* who = nullptr;
    bool rooms_shown = rt.settings.tokens.empty();
    if (!rooms_shown) {
        char auth[256];
        const int an = ex.header(HttpHeader::authorization, auth, sizeof auth);
        if (an != 0) {
            const std::string_view a(auth, an > 0 ? static_cast<std::size_t>(an) : 0);
            who = a.size() > 7 && a.substr(0, 7) == "Bearer " ? find_token(rt.settings, a.substr(7)) : nullptr;
            if (who == nullptr) return http_error(rt, ex, c, 401, "unauthorized", "wrong token");
            rooms_shown = true;
        }
    }
    char* out = lend_buffer(rt, c);
    if (out == nullptr) return busy(rt, ex, c);
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
    line("roost_messages_in_total", "Client frames received.", "counter", s.frames_in);
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
    const char* const drop_reasons[] = {"typing", "read"};
    const std::uint64_t drops[] = {s.typing_dropped, s.reads_dropped};
    labelled("roost_drops_total", "Events dropped instead of delivered, by reason.", "reason", drop_reasons, drops, 2);
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
        line("roost_journal_sync_failures_total", "fdatasync calls the disk refused (acks wait, posts get 507).",
             "counter", js.sync_failures);
        line("roost_journal_failing", "1 while the disk refuses syncs.", "gauge", j->failing() ? 1 : 0);
        line("roost_journal_damaged_records", "Records dropped as damaged at start-up.", "gauge", js.damaged);
        line("roost_journal_file_bytes", "Fixed size of the journal files.", "gauge", j->file_bytes());
    }
    if (n < cap && rooms_shown) {
        const int k2 = std::snprintf(out + n, cap - n, "# HELP roost_ring_fill Messages held per room.\n# TYPE roost_ring_fill gauge\n");
        n += k2 > 0 ? static_cast<std::size_t>(k2) : 0;
    }
    for (std::uint32_t i = 0; i < rt.broker.room_slots() && n < cap && rooms_shown; ++i) {
        const Room& r = rt.broker.room(i);
        if (!r.used || r.dm || (who != nullptr && !token_allows(*who, r.name.view(), false))) continue;
        const int k3 = std::snprintf(out + n, cap - n, "roost_ring_fill{room=\"%s\"} %u\n", r.name.buf, r.history->count());
        n += k3 > 0 ? static_cast<std::size_t>(k3) : 0;
    }
    if (rooms_shown) n = device_lines(rt, who, out, cap, n);
    if (n >= cap) { // some line was cut: never send a partial page (the buffer is sized for the settings)
        return http_error(rt, ex, c, 503, "server_busy", "the metrics do not fit the response buffer");
    }
    return respond(ex, c, 200, "text/plain; version=0.0.4", out, n);
}

} // namespace roost
