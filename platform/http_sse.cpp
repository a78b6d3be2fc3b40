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

int begin_sse(Runtime& rt, HttpExchange& ex, Conn& c, std::uint32_t ri) {
    const RoomView r = rt.broker.room_view(ri);
    auto& list = rt.sse_by_room[ri];
    if (list.size() >= list.capacity()) {
        return http_error(rt, ex, c, 503, "server_busy", "too many event streams on this room");
    }
    // Where to start: Last-Event-ID (a reconnecting EventSource), else
    // ?since=, else live only; either follows the rules of GET /messages.
    std::uint64_t since = 0;
    bool has = false;
    char last_id[64];
    if (ex.has_header(HttpHeader::last_event_id)) {
        const int n = ex.header(HttpHeader::last_event_id, last_id, sizeof last_id);
        if (n < 0 || !parse_seq(std::string_view(last_id, static_cast<std::size_t>(n)), since)) {
            return http_error(rt, ex, c, 400, "bad_request", "Last-Event-ID: a whole number below 2^53");
        }
        has = true;
    } else if (!url_seq(ex, "since=", since, has)) {
        return http_error(rt, ex, c, 400, "bad_request", "since: a whole number below 2^53");
    }
    const RoomHistory& hist = r.history();
    c.kind = ConnKind::sse;
    c.sse_room = ri;
    std::memcpy(c.sse_epoch, r.epoch(), sizeof c.sse_epoch);
    c.sse_next = has ? (since + 1 < hist.oldest() ? hist.oldest() : since + 1) : hist.head() + 1;
    if (c.sse_next > hist.head() + 1) c.sse_next = hist.head() + 1;
    const HttpField cache{"cache-control:", "no-cache"};
    if (!ex.send_headers(200, "text/event-stream", kHttpStreamLength, &cache, 1)) {
        return 1;
    }
    ex.cancel_timer(); // the request is in
    list.push_back(ex.stream());
    rt.counters.sse_streams++;
    ex.keep_open();
    ex.want_writable();
    return 0;
}

int sse_writeable(Runtime& rt, HttpExchange& ex, Conn& c) {
    const RoomView r = rt.broker.room_view(c.sse_room);
    if (!r.used() || std::memcmp(r.epoch(), c.sse_epoch, kEpochLen) != 0) {
        return -1; // the room's history is gone: the client reconnects
    }
    const RoomHistory& hist = r.history();
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
        ex.want_writable();
        return 0;
    }
    char* out = rt.pool.data(b) + kHttpHeadroom;
    const int h = std::snprintf(out, 64, "event: msg\nid: %llu\ndata: ", static_cast<unsigned long long>(seq));
    std::memcpy(out + h, data, len);
    std::memcpy(out + h + len, "\n\n", 2);
    const std::size_t total = static_cast<std::size_t>(h) + len + 2;
    const bool wrote = ex.send_body(out, total, false);
    rt.pool.release(b);
    if (!wrote) return -1;
    rt.counters.sse_events++;
    c.sse_next = seq + 1;
    if (c.sse_next <= hist.head()) ex.want_writable();
    return 0;
}

} // namespace roost
