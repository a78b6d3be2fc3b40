// FakeExchange: an HttpExchange (platform/http_exchange.h) over a request
// parsed from bytes, that records the response instead of writing it. The
// HTTP fuzz target drives the real handlers with it; the reading rules are
// lws's (what LwsExchange does): known headers repeated read as one joined
// by commas, an empty one as absent; URL arguments decoded; the first
// argument of a name wins.
#pragma once

#include "platform/http_exchange.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roost::fuzz {

struct FakeRequest {
    HttpMethod method = HttpMethod::get;
    std::string method_name;                                 // as sent: "GET", "PUT", ...
    std::string path;                                        // decoded, without the query
    std::vector<std::string> args;                           // decoded "name=value" pieces of the query
    std::vector<std::pair<std::string, std::string>> headers; // lower-case names, trimmed values
    std::string body;
    bool body_complete = true; // false: the input ended before Content-Length bytes
    bool has_length = false;   // a Content-Length lws takes (one, digits only)

    // The value of header `name` (lower case, no colon), or nullptr.
    const std::string* find(std::string_view name) const;
};

// Parses the next request from `in` (raw HTTP/1.1, as a client sends it;
// leading empty lines skipped as lws does). Returns false when there is no
// further request lws would hand to Roost (end of input, or bytes lws itself
// refuses: a bad request line, a NUL, a bad % escape, header lines that are
// not `name: value`, a Content-Length lws answers 400). Consumes what it read.
[[nodiscard]] bool parse_request(std::string_view& in, FakeRequest& out);

class FakeExchange final : public HttpExchange {
public:
    explicit FakeExchange(const FakeRequest& r) : req_(r) {}

    HttpMethod method() override { return req_.method; }
    int header(HttpHeader h, char* out, std::size_t cap) override;
    bool has_header(HttpHeader h) override;
    int url_arg(const char* name, char* out, std::size_t cap) override;
    void peer(std::uint8_t out[16]) override;
    void set_timer_s(std::uint32_t seconds) override { timer_s = seconds, timer_armed = true; }
    void cancel_timer() override { timer_armed = false; }
    void keep_open() override { kept_open = true; }
    bool send_headers(unsigned status, const char* type, std::uint64_t length, const HttpField* fields,
                      std::size_t count) override;
    bool send_body(char* data, std::size_t size, bool last) override;
    void want_writable() override { writable_asked = true; }
    int complete(bool close) override;
    struct lws* stream() override { return nullptr; }

    // What the handlers did.
    unsigned headers_sent = 0, completions = 0, status = 0;
    std::string type;
    std::uint64_t length = 0;
    std::vector<std::pair<std::string, std::string>> fields; // names without the colon
    std::string body;
    bool last_seen = false, writes_after_last = false;
    bool closed = false, kept_open = false, writable_asked = false;
    bool timer_armed = false;
    std::uint32_t timer_s = 0;

    const std::string* field(std::string_view name) const;

private:
    const FakeRequest& req_;
};

} // namespace roost::fuzz
