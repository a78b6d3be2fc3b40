// LwsExchange: the HTTP handlers' view of a request (http_exchange.h) on a
// libwebsockets connection. protocol.cpp makes one on the stack for each
// HTTP callback of a connection; it holds only the wsi.
#pragma once

#include "platform/http_exchange.h"

namespace roost {

class LwsExchange final : public HttpExchange {
public:
    explicit LwsExchange(struct lws* wsi) : wsi_(wsi) {}

    HttpMethod method() override;
    int header(HttpHeader h, char* out, std::size_t cap) override;
    bool has_header(HttpHeader h) override;
    int url_arg(const char* name, char* out, std::size_t cap) override;
    void peer(std::uint8_t out[16]) override;
    void set_timer_s(std::uint32_t seconds) override;
    void cancel_timer() override;
    void keep_open() override;
    bool send_headers(unsigned status, const char* type, std::uint64_t length, const HttpField* fields,
                      std::size_t count) override;
    bool send_body(char* data, std::size_t size, bool last) override;
    void want_writable() override;
    int complete(bool close) override;
    struct lws* stream() override;

private:
    struct lws* wsi_;
};

} // namespace roost
