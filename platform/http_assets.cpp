#include "platform/http_assets.h"

#include "platform/assets.h"

#include <cstring>

namespace roost {
namespace {

// One response in flight on one connection: a body that lives elsewhere
// (the packed assets, the CA string, or a static error text) and how much
// of it was written. Data leaves only in the WRITEABLE callback.
struct HttpSession {
    const unsigned char* body;
    std::size_t size;
    std::size_t sent;
};

constexpr std::size_t kChunk = 4096;

const char kNotFound[] = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such path\"}}";
const char kBadMethod[] = "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"only GET is served here\"}}";

// Writes the status line and headers, then asks for WRITEABLE to send the
// body. Returns non-zero when the connection must be closed.
int begin_response(struct lws* wsi, HttpSession* s, unsigned int status, const char* type,
                   const unsigned char* body, std::size_t size, const char* cache) {
    unsigned char buf[LWS_PRE + 1024];
    unsigned char* start = &buf[LWS_PRE];
    unsigned char* p = start;
    unsigned char* end = &buf[sizeof buf - 1];
    s->body = body;
    s->size = size;
    s->sent = 0;
    if (lws_add_http_common_headers(wsi, status, type, size, &p, end) != 0) {
        return 1;
    }
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     reinterpret_cast<const unsigned char*>(cache),
                                     static_cast<int>(std::strlen(cache)), &p, end) != 0) {
        return 1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end) != 0) {
        return 1;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

int on_http(struct lws* wsi, HttpSession* s, const char* path) {
    const auto* vh = static_cast<const HttpAssetsVhost*>(
        lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi)));
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        return begin_response(wsi, s, HTTP_STATUS_METHOD_NOT_ALLOWED, "application/json",
                              reinterpret_cast<const unsigned char*>(kBadMethod), sizeof kBadMethod - 1,
                              "no-store");
    }
    if (std::strcmp(path, "/ca.crt") == 0 && vh != nullptr && vh->ca_pem != nullptr && !vh->ca_pem->empty()) {
        return begin_response(wsi, s, HTTP_STATUS_OK, "application/x-x509-ca-cert",
                              reinterpret_cast<const unsigned char*>(vh->ca_pem->data()), vh->ca_pem->size(),
                              "no-cache");
    }
    const Asset* a = find_asset(path);
    if (a == nullptr) {
        return begin_response(wsi, s, HTTP_STATUS_NOT_FOUND, "application/json",
                              reinterpret_cast<const unsigned char*>(kNotFound), sizeof kNotFound - 1, "no-store");
    }
    return begin_response(wsi, s, HTTP_STATUS_OK, a->content_type, a->data, a->size, "no-cache");
}

int on_writeable(struct lws* wsi, HttpSession* s) {
    if (s->body == nullptr) {
        return 0;
    }
    unsigned char buf[LWS_PRE + kChunk];
    const std::size_t n = s->size - s->sent < kChunk ? s->size - s->sent : kChunk;
    std::memcpy(&buf[LWS_PRE], s->body + s->sent, n);
    s->sent += n;
    const bool last = s->sent == s->size;
    if (lws_write(wsi, &buf[LWS_PRE], n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != static_cast<int>(n)) {
        return 1;
    }
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    s->body = nullptr;
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

int http_assets_callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                         std::size_t len) {
    auto* s = static_cast<HttpSession*>(user);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, s, static_cast<const char*>(in));
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writeable(wsi, s);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

} // namespace

struct lws_protocols http_assets_protocol() {
    return {"http", http_assets_callback, sizeof(HttpSession), 0, 0, nullptr, 0};
}

} // namespace roost
