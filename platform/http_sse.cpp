// Server-Sent Events: one room's messages as `event: msg` / `id: SEQ` /
// `data: JSON`, written straight from the room's ring, one event per
// WRITEABLE; from Last-Event-ID or ?since= when given, else live only.
#include "platform/http.h"
#include "platform/http_rules.h"
#include "platform/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace roost {

int begin_sse(Runtime& rt, struct lws* wsi, Conn& c, std::uint32_t ri) {
    const Room& r = rt.broker.room(ri);
    auto& list = rt.sse_by_room[ri];
    if (list.size() >= list.capacity()) {
        return http_error(rt, wsi, c, 503, "server_busy", "too many event streams on this room");
    }
    // Where to start: Last-Event-ID (a reconnecting EventSource), else
    // ?since=, else live only; either follows the rules of GET /messages.
    std::uint64_t since = 0;
    bool has = false;
    char last_id[64];
    const int idn = lws_hdr_custom_length(wsi, "last-event-id:", 14);
    if (idn >= 0) {
        const int n = lws_hdr_custom_copy(wsi, last_id, sizeof last_id, "last-event-id:", 14);
        if (n < 0 || !parse_seq(std::string_view(last_id, static_cast<std::size_t>(n)), since)) {
            return http_error(rt, wsi, c, 400, "bad_request", "Last-Event-ID: a whole number below 2^53");
        }
        has = true;
    } else if (!url_seq(wsi, "since=", since, has)) {
        return http_error(rt, wsi, c, 400, "bad_request", "since: a whole number below 2^53");
    }
    const RoomHistory& hist = *r.history;
    c.kind = ConnKind::sse;
    c.sse_room = ri;
    std::memcpy(c.sse_epoch, r.epoch, sizeof c.sse_epoch);
    c.sse_next = has ? (since + 1 < hist.oldest() ? hist.oldest() : since + 1) : hist.head() + 1;
    if (c.sse_next > hist.head() + 1) c.sse_next = hist.head() + 1;
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
    lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL); // the request is in
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
    const RoomHistory& hist = *r.history;
    if (c.sse_next > hist.head()) return 0;
    if (!rt.durable()) return 0; // nothing that is not on the disk leaves (journal_synced wakes it)
    if (c.sse_next < hist.oldest()) return -1; // fell behind people's ring
    const std::uint64_t seq = hist.next(c.sse_next); // readings that left their ring are skipped
    if (seq > hist.head()) {
        c.sse_next = seq;
        return 0;
    }
    const char* data = nullptr;
    std::uint32_t len = 0;
    if (!hist.get(seq, data, len)) return -1;
    const int b = rt.pool.acquire();
    if (b < 0) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    char* out = rt.pool.data(b) + LWS_PRE;
    const int h = std::snprintf(out, 64, "event: msg\nid: %llu\ndata: ", static_cast<unsigned long long>(seq));
    std::memcpy(out + h, data, len);
    std::memcpy(out + h + len, "\n\n", 2);
    const std::size_t total = static_cast<std::size_t>(h) + len + 2;
    const int wrote = lws_write(wsi, reinterpret_cast<unsigned char*>(out), total, LWS_WRITE_HTTP);
    rt.pool.release(b);
    if (wrote < static_cast<int>(total)) return -1;
    rt.counters.sse_events++;
    c.sse_next = seq + 1;
    if (c.sse_next <= hist.head()) lws_callback_on_writable(wsi);
    return 0;
}

} // namespace roost
