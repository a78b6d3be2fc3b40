// HttpExchange: one HTTP request and its response, as the handlers see them
// (http_api.cpp, http_response.cpp, http_sse.cpp, http_metrics.cpp). The
// handlers never call lws themselves: in the server they run against
// LwsExchange (http_lws.cpp, made by protocol.cpp for each callback), in
// the fuzz target against a fake that records the response
// (tests/fuzz/fuzz_http.cpp), so every request path runs without sockets.
//
// The request: its method, a header by name, a URL argument by name, the
// peer's address (the body comes to http_body() in pieces). The response:
// the status line and headers at once, then the body in pieces, each
// written when the connection is writable (want_writable()), then
// complete(). A deadline (set_timer_s) ends in http_timer() when it runs out.
#pragma once

#include <cstddef>
#include <cstdint>

struct lws;

namespace roost {

enum class HttpMethod : std::uint8_t { get, head, post, other };

// The request headers the handlers read.
enum class HttpHeader : std::uint8_t {
    authorization,
    origin,
    accept_encoding,
    if_none_match,
    content_type,
    content_length,
    transfer_encoding,
    sec_fetch_site,
    idempotency_key,
    last_event_id,
};

// One response header beyond the status, type and length: `name` with its
// colon ("etag:"), `value` NUL-terminated.
struct HttpField {
    const char* name;
    const char* value;
};

// Bytes before a body piece that the exchange may write into (lws puts
// its framing there): every `data` given to send_body() has them.
inline constexpr std::size_t kHttpHeadroom = 16;

// send_headers()'s `length` for a stream without Content-Length (SSE).
inline constexpr std::uint64_t kHttpStreamLength = ~std::uint64_t{0};

class HttpExchange {
public:
    virtual ~HttpExchange() = default;

    virtual HttpMethod method() = 0;
    // Copies header `h` into out[cap], NUL-terminated. Returns its length;
    // 0 when it is absent or empty; -1 when it does not fit in cap bytes
    // with its NUL. Repeated headers read as one, joined by commas.
    virtual int header(HttpHeader h, char* out, std::size_t cap) = 0;
    // True when header `h` came, even empty (for the headers lws parses
    // itself, an empty one reads as absent).
    virtual bool has_header(HttpHeader h) = 0;
    // The value of the first URL argument named `name` ("since="), decoded,
    // NUL-terminated in out[cap]. Returns its length; -1 when there is no
    // such argument; -2 when its value does not fit in cap bytes with its NUL.
    virtual int url_arg(const char* name, char* out, std::size_t cap) = 0;
    // The peer's address as 16 bytes (IPv4 mapped into IPv6; zeros when unknown).
    virtual void peer(std::uint8_t out[16]) = 0;

    // http_timer() runs after `seconds` unless cancelled (or set again).
    virtual void set_timer_s(std::uint32_t seconds) = 0;
    virtual void cancel_timer() = 0;
    // The connection stays open without a deadline (an event stream).
    virtual void keep_open() = 0;

    // The status line and headers: Content-Type `type`, Content-Length
    // `length` (kHttpStreamLength: none, the body runs until the connection
    // closes), then `fields`. False when they could not be written (the
    // connection closes).
    virtual bool send_headers(unsigned status, const char* type, std::uint64_t length, const HttpField* fields,
                              std::size_t count) = 0;
    // A piece of the body (kHttpHeadroom writable bytes before `data`);
    // `last` ends a body of known length. False when it could not all be
    // written (the connection closes).
    virtual bool send_body(char* data, std::size_t size, bool last) = 0;
    // Asks for http_writeable() when the connection can take more.
    virtual void want_writable() = 0;
    // The response is out: the connection waits for the next request, or
    // closes (`close`, after taking in what the client already sent, so
    // that it reads the answer before the connection resets). Returns what
    // the callback returns.
    virtual int complete(bool close) = 0;

    // The connection as lws knows it: the key of an event stream in
    // Runtime::sse_by_room (nullptr outside the server).
    virtual struct lws* stream() = 0;
};

} // namespace roost
