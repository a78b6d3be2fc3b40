// Server-Sent Events: one room's messages as `event: msg` / `id: SEQ` /
// `data: JSON`, written straight from the room's ring, one event per
// WRITEABLE; from Last-Event-ID or ?since= when given, else live only.
#include "platform/http.h"
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

} // namespace roost
