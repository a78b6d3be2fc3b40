// The HTTP side of Roost's one lws protocol, split by concern:
//   http_api.cpp       routing, the API's posts and reads, health, the page's files
//   http_response.cpp  a response: status and headers now, the body in chunks
//                      from WRITEABLE; JSON errors; the buffers a request borrows
//   http_sse.cpp       Server-Sent Events
//   http_metrics.cpp   /metrics (Prometheus text)
// Every function here runs inside the lws callback for one connection, and
// reaches the connection only through its HttpExchange (http_exchange.h).
#pragma once

#include "platform/conn.h"
#include "platform/http_exchange.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace roost {

class Runtime;

// Bytes of body written per WRITEABLE callback.
inline constexpr std::size_t kHttpChunk = 4096;

// Starts a response: status line and headers now, `body` (which must live
// until the response ends: a pool buffer, the request's scratch, or static
// storage) from WRITEABLE. One extra header when `extra_name` is given.
int respond(HttpExchange& ex, Conn& c, unsigned status, const char* type, const char* body, std::size_t size,
            const char* cache = "no-store", const char* extra_name = nullptr, const char* extra_value = nullptr);

// A pool buffer lent to the request until it ends (release_buf); nullptr
// when every buffer is lent (answer busy()).
char* lend_buffer(Runtime& rt, Conn& c);
void release_buf(Runtime& rt, Conn& c);
int busy(Runtime& rt, HttpExchange& ex, Conn& c);

// The request's scratch, lent until the request ends (release_scratch);
// nullptr only if every entry is lent (there is one per connection slot).
HttpScratch* scratch(Runtime& rt, Conn& c);
void release_scratch(Runtime& rt, Conn& c);

// A JSON body written into the request's scratch.
int respond_small(HttpExchange& ex, Conn& c, unsigned status, const HttpScratch& s, std::size_t size);
// When not even a scratch is free: a fixed 503 body.
int respond_unserved(HttpExchange& ex, Conn& c);
// {"error":{"code","message"}} with `status`, and one extra header if given.
int error_response(Runtime& rt, HttpExchange& ex, Conn& c, unsigned status, const char* code, const char* message,
                   const char* extra_name, const char* extra_value);
// The same, then the connection closes: for errors answered before a body
// whose length is unknown or refused (whatever follows cannot be told apart
// from the next request).
int error_then_close(Runtime& rt, HttpExchange& ex, Conn& c, unsigned status, const char* code, const char* message);

// The response is out: the connection waits for the next request, or
// closes (close_after). Returns what the lws callback returns.
int end_response(Runtime& rt, HttpExchange& ex, Conn& c);

// A URL argument that is a seq or count (http_rules.h: parse_seq). Returns
// false when it is present but not one; `present` says whether it was given.
[[nodiscard]] bool url_seq(HttpExchange& ex, const char* name, std::uint64_t& out, bool& present);

// http_metrics.cpp
int serve_metrics(Runtime& rt, HttpExchange& ex, Conn& c);

// http_devices.cpp: GET /api/rooms/{room}/devices (`rest` empty) and
// .../devices/{name}/series (`rest` "{name}/series") of room slot `ri`,
// written in pieces by devices_writeable(); the bytes a request buffer
// needs for one piece.
int serve_devices(Runtime& rt, HttpExchange& ex, Conn& c, std::uint32_t ri, std::string_view rest);
int devices_writeable(Runtime& rt, HttpExchange& ex, Conn& c);
std::uint64_t device_piece_bytes(const CoreLimits& l);

// http_sse.cpp: a stream of room `ri` from the request's since/Last-Event-ID.
int begin_sse(Runtime& rt, HttpExchange& ex, Conn& c, std::uint32_t ri);
int sse_writeable(Runtime& rt, HttpExchange& ex, Conn& c);

} // namespace roost
