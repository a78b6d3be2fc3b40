// Responses: the status line and headers go out at once, the body from
// WRITEABLE in chunks of kHttpChunk; errors are JSON {"error":{code,message}}.
// Bodies live in a pool buffer lent to the request, in its scratch, or in
// static storage, until the response ends.
#include "broker/json_writer.h"
#include "platform/http.h"
#include "platform/http_rules.h"
#include "platform/runtime.h"

#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

namespace roost {

int respond(struct lws* wsi, Conn& c, unsigned status, const char* type, const char* body, std::size_t size,
            const char* cache, const char* extra_name, const char* extra_value) {
    unsigned char buf[LWS_PRE + 1024];
    unsigned char* start = &buf[LWS_PRE];
    unsigned char* p = start;
    unsigned char* end = &buf[sizeof buf - 1];
    c.status = status;
    c.body = body;
    c.size = static_cast<std::uint32_t>(size);
    c.sent = 0;
    lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL); // the request is in: its deadline is met
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
    if (c.close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, reinterpret_cast<const unsigned char*>("close"), 5, &p,
                                     end) != 0) {
        return 1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end) != 0) {
        return 1;
    }
    if (c.head || size == 0) {
        // HEAD: the GET's headers (its Content-Length included), no body.
        c.body = nullptr;
        c.size = 0;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

int end_response(Runtime& rt, struct lws* wsi, Conn& c) {
    c.body = nullptr;
    release_buf(rt, c);
    release_scratch(rt, c);
    if (c.close_after) {
        // What the client sent after the refused request is not read:
        // take what is already here so that closing does not reset the
        // connection before the client has read the answer.
        const int fd = lws_get_socket_fd(wsi);
        char sink[4096];
        for (int i = 0; fd >= 0 && i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
        }
        return -1;
    }
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

void release_buf(Runtime& rt, Conn& c) {
    if (c.buf != 0) {
        rt.pool.release(c.buf - 1);
        c.buf = 0;
    }
}

char* lend_buffer(Runtime& rt, Conn& c) {
    const int b = rt.pool.acquire();
    if (b < 0) return nullptr;
    c.buf = b + 1;
    return rt.pool.data(b);
}

int busy(Runtime& rt, struct lws* wsi, Conn& c) {
    return http_error(rt, wsi, c, 503, "server_busy", "too many requests in flight");
}

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

int respond_small(struct lws* wsi, Conn& c, unsigned status, const HttpScratch& s, std::size_t size) {
    return respond(wsi, c, status, "application/json", s.small, size);
}

int respond_unserved(struct lws* wsi, Conn& c) {
    static const char kBody[] = "{\"error\":{\"code\":\"server_busy\",\"message\":\"too many requests in flight\"}}";
    return respond(wsi, c, 503, "application/json", kBody, sizeof kBody - 1);
}

int error_then_close(Runtime& rt, struct lws* wsi, Conn& c, unsigned status, const char* code, const char* message) {
    c.close_after = true;
    return error_response(rt, wsi, c, status, code, message, nullptr, nullptr);
}

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

bool url_seq(struct lws* wsi, const char* name, std::uint64_t& out, bool& present) {
    // As large as the whole header table: a longer value cannot exist, so
    // "too long for the buffer" never reads as "absent".
    char buf[4096];
    const int n = lws_get_urlarg_by_name_safe(wsi, name, buf, sizeof buf);
    present = n >= 0;
    return !present || parse_seq(std::string_view(buf, static_cast<std::size_t>(n)), out);
}

int http_error(Runtime& rt, struct lws* wsi, Conn& c, unsigned status, const char* code, const char* message) {
    return error_response(rt, wsi, c, status, code, message, nullptr, nullptr);
}

int http_writeable(Runtime& rt, struct lws* wsi, Conn& c) {
    if (c.kind == ConnKind::sse) return sse_writeable(rt, wsi, c);
    if (c.held_status != 0) {
        if (!rt.durable()) return 0; // the disk refuses syncs: the answer waits (journal_synced wakes it)
        const unsigned status = c.held_status;
        c.held_status = 0;
        const HttpScratch* s = scratch(rt, c);
        return s == nullptr ? -1 : respond(wsi, c, status, "application/json", s->small, c.held_len);
    }
    if (c.status == 0) return 0; // no response under way
    if (c.body == nullptr) {
        c.status = 0;
        return end_response(rt, wsi, c);
    }
    unsigned char buf[LWS_PRE + kHttpChunk];
    const std::size_t n = c.size - c.sent < kHttpChunk ? c.size - c.sent : kHttpChunk;
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
    c.status = 0;
    return end_response(rt, wsi, c);
}

} // namespace roost
