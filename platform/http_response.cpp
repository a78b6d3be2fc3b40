// Responses: the status line and headers go out at once, the body from
// WRITEABLE in chunks of kHttpChunk; errors are JSON {"error":{code,message}}.
// Bodies live in a pool buffer lent to the request, in its scratch, or in
// static storage, until the response ends.
#include "broker/json_writer.h"
#include "platform/http.h"
#include "platform/http_rules.h"
#include "platform/runtime.h"

#include <cstdlib>
#include <cstring>

namespace roost {

int respond(HttpExchange& ex, Conn& c, unsigned status, const char* type, const char* body, std::size_t size,
            const char* cache, const char* extra_name, const char* extra_value) {
    c.status = status;
    c.body = body;
    c.size = static_cast<std::uint32_t>(size);
    c.sent = 0;
    ex.cancel_timer(); // the request is in: its deadline is met
    HttpField fields[3] = {{"cache-control:", cache}};
    std::size_t n = 1;
    if (extra_name != nullptr) fields[n++] = {extra_name, extra_value};
    if (c.close_after) fields[n++] = {"connection:", "close"};
    if (!ex.send_headers(status, type, size, fields, n)) {
        return 1;
    }
    if (c.head || size == 0) {
        // HEAD: the GET's headers (its Content-Length included), no body.
        c.body = nullptr;
        c.size = 0;
    }
    ex.want_writable();
    return 0;
}

int end_response(Runtime& rt, HttpExchange& ex, Conn& c) {
    c.body = nullptr;
    release_buf(rt, c);
    release_scratch(rt, c);
    return ex.complete(c.close_after);
}

void release_buf(Runtime& rt, Conn& c) {
    if (c.buf_slot != 0) {
        rt.pool.release(c.buf_slot - 1);
        c.buf_slot = 0;
    }
}

char* lend_buffer(Runtime& rt, Conn& c) {
    const int b = rt.pool.acquire();
    if (b < 0) return nullptr;
    c.buf_slot = b + 1;
    return rt.pool.data(b);
}

int busy(Runtime& rt, HttpExchange& ex, Conn& c) {
    return http_error(rt, ex, c, 503, "server_busy", "too many requests in flight");
}

HttpScratch* scratch(Runtime& rt, Conn& c) {
    if (c.scratch_slot == 0) {
        const int i = rt.scratch.acquire();
        if (i < 0) return nullptr;
        c.scratch_slot = static_cast<std::uint32_t>(i) + 1;
    }
    return &rt.scratch.at(static_cast<int>(c.scratch_slot) - 1);
}

void release_scratch(Runtime& rt, Conn& c) {
    if (c.scratch_slot != 0) {
        rt.scratch.release(static_cast<int>(c.scratch_slot) - 1);
        c.scratch_slot = 0;
    }
}

int respond_small(HttpExchange& ex, Conn& c, unsigned status, const HttpScratch& s, std::size_t size) {
    return respond(ex, c, status, "application/json", s.small, size);
}

int respond_unserved(HttpExchange& ex, Conn& c) {
    static const char kBody[] = "{\"error\":{\"code\":\"server_busy\",\"message\":\"too many requests in flight\"}}";
    return respond(ex, c, 503, "application/json", kBody, sizeof kBody - 1);
}

int error_then_close(Runtime& rt, HttpExchange& ex, Conn& c, unsigned status, const char* code, const char* message) {
    c.close_after = true;
    return error_response(rt, ex, c, status, code, message, nullptr, nullptr);
}

int error_response(Runtime& rt, HttpExchange& ex, Conn& c, unsigned status, const char* code, const char* message,
                   const char* extra_name, const char* extra_value) {
    rt.counters.http_errors++;
    HttpScratch* s = scratch(rt, c);
    if (s == nullptr) return respond_unserved(ex, c);
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
    return respond(ex, c, status, "application/json", s->small, w.size(), "no-store", extra_name, extra_value);
}

bool url_seq(HttpExchange& ex, const char* name, std::uint64_t& out, bool& present) {
    // As large as the whole header table: a longer value cannot exist.
    char buf[4096];
    const int n = ex.url_arg(name, buf, sizeof buf);
    present = n != -1;
    return !present || (n >= 0 && parse_seq(std::string_view(buf, static_cast<std::size_t>(n)), out));
}

int http_error(Runtime& rt, HttpExchange& ex, Conn& c, unsigned status, const char* code, const char* message) {
    return error_response(rt, ex, c, status, code, message, nullptr, nullptr);
}

int http_writeable(Runtime& rt, HttpExchange& ex, Conn& c) {
    if (c.kind == ConnKind::sse) return sse_writeable(rt, ex, c);
    if (c.held_status != 0) {
        if (!rt.durable()) return 0; // the disk refuses syncs: the answer waits (journal_synced wakes it)
        const unsigned status = c.held_status;
        c.held_status = 0;
        const HttpScratch* s = scratch(rt, c);
        return s == nullptr ? -1 : respond(ex, c, status, "application/json", s->small, c.held_len);
    }
    if (c.status == 0) return 0; // no response under way
    if (c.stream != 0) return devices_writeable(rt, ex, c);
    if (c.body == nullptr) {
        c.status = 0;
        return end_response(rt, ex, c);
    }
    char buf[kHttpHeadroom + kHttpChunk];
    const std::size_t n = c.size - c.sent < kHttpChunk ? c.size - c.sent : kHttpChunk;
    std::memcpy(&buf[kHttpHeadroom], c.body + c.sent, n);
    c.sent += static_cast<std::uint32_t>(n);
    const bool last = c.sent == c.size;
    if (!ex.send_body(&buf[kHttpHeadroom], n, last)) {
        return 1;
    }
    if (!last) {
        ex.want_writable();
        return 0;
    }
    c.status = 0;
    return end_response(rt, ex, c);
}

} // namespace roost
