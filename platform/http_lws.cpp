// LwsExchange: HttpExchange on a libwebsockets connection (http_exchange.h).
// Made by protocol.cpp for each HTTP callback; holds nothing but the wsi.
#include "platform/http_lws.h"

#include "platform/conn.h"

#include <sys/socket.h>

#include <cstring>

namespace roost {

static_assert(kHttpHeadroom >= LWS_PRE, "a body piece needs lws's headroom before it");

namespace {

// The headers lws parses itself are read by token; the others by name.
struct HeaderName {
    int token; // enum lws_token_indexes, or -1
    const char* custom;
};

HeaderName name_of(HttpHeader h) {
    switch (h) {
    case HttpHeader::authorization: return {WSI_TOKEN_HTTP_AUTHORIZATION, nullptr};
    case HttpHeader::origin: return {WSI_TOKEN_ORIGIN, nullptr};
    case HttpHeader::accept_encoding: return {WSI_TOKEN_HTTP_ACCEPT_ENCODING, nullptr};
    case HttpHeader::if_none_match: return {WSI_TOKEN_HTTP_IF_NONE_MATCH, nullptr};
    case HttpHeader::content_type: return {WSI_TOKEN_HTTP_CONTENT_TYPE, nullptr};
    case HttpHeader::content_length: return {WSI_TOKEN_HTTP_CONTENT_LENGTH, nullptr};
    case HttpHeader::transfer_encoding: return {WSI_TOKEN_HTTP_TRANSFER_ENCODING, nullptr};
    case HttpHeader::sec_fetch_site: return {-1, "sec-fetch-site:"};
    case HttpHeader::idempotency_key: return {-1, "idempotency-key:"};
    case HttpHeader::last_event_id: return {-1, "last-event-id:"};
    }
    return {-1, "x-none:"};
}

// The header table holds at most this much (lws's default
// max_http_header_data): no URL argument is longer.
constexpr std::size_t kHeaderTable = 4096;

} // namespace

HttpMethod LwsExchange::method() {
    char* uri = nullptr;
    int uri_len = 0;
    switch (lws_http_get_uri_and_method(wsi_, &uri, &uri_len)) {
    case LWSHUMETH_GET: return HttpMethod::get;
    case LWSHUMETH_HEAD: return HttpMethod::head;
    case LWSHUMETH_POST: return HttpMethod::post;
    default: return HttpMethod::other;
    }
}

int LwsExchange::header(HttpHeader h, char* out, std::size_t cap) {
    const HeaderName n = name_of(h);
    const int len = static_cast<int>(cap);
    if (n.token >= 0) return lws_hdr_copy(wsi_, out, len, static_cast<lws_token_indexes>(n.token));
    const int nlen = static_cast<int>(std::strlen(n.custom));
    if (lws_hdr_custom_length(wsi_, n.custom, nlen) < 0) {
        out[0] = '\0';
        return 0;
    }
    return lws_hdr_custom_copy(wsi_, out, len, n.custom, nlen);
}

bool LwsExchange::has_header(HttpHeader h) {
    const HeaderName n = name_of(h);
    if (n.token >= 0) return lws_hdr_total_length(wsi_, static_cast<lws_token_indexes>(n.token)) > 0;
    return lws_hdr_custom_length(wsi_, n.custom, static_cast<int>(std::strlen(n.custom))) >= 0;
}

int LwsExchange::url_arg(const char* name, char* out, std::size_t cap) {
    // Every argument in turn, each copied whole (none is longer than the
    // header table), so that a long argument before the one asked for does
    // not hide it.
    char arg[kHeaderTable + 1];
    const std::size_t nlen = std::strlen(name);
    for (int i = 0;; ++i) {
        const int n = lws_hdr_copy_fragment(wsi_, arg, static_cast<int>(sizeof arg), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) return -1;
        const auto len = static_cast<std::size_t>(n);
        if (len < nlen || std::memcmp(arg, name, nlen) != 0) continue;
        const std::size_t vlen = len - nlen;
        if (vlen + 1 > cap) return -2;
        std::memcpy(out, arg + nlen, vlen);
        out[vlen] = '\0';
        return static_cast<int>(vlen);
    }
}

void LwsExchange::peer(std::uint8_t out[16]) { peer_address(wsi_, out); }

void LwsExchange::set_timer_s(std::uint32_t seconds) {
    lws_set_timer_usecs(wsi_, static_cast<lws_usec_t>(seconds) * LWS_US_PER_SEC);
}

void LwsExchange::cancel_timer() { lws_set_timer_usecs(wsi_, LWS_SET_TIMER_USEC_CANCEL); }

void LwsExchange::keep_open() { lws_set_timeout(wsi_, NO_PENDING_TIMEOUT, 0); }

bool LwsExchange::send_headers(unsigned status, const char* type, std::uint64_t length, const HttpField* fields,
                               std::size_t count) {
    unsigned char buf[LWS_PRE + 1024];
    unsigned char* start = &buf[LWS_PRE];
    unsigned char* p = start;
    unsigned char* end = &buf[sizeof buf - 1];
    const lws_filepos_t len = length == kHttpStreamLength ? LWS_ILLEGAL_HTTP_CONTENT_LEN : length;
    if (lws_add_http_common_headers(wsi_, status, type, len, &p, end) != 0) return false;
    for (std::size_t i = 0; i < count; ++i) {
        if (lws_add_http_header_by_name(wsi_, reinterpret_cast<const unsigned char*>(fields[i].name),
                                        reinterpret_cast<const unsigned char*>(fields[i].value),
                                        static_cast<int>(std::strlen(fields[i].value)), &p, end) != 0) {
            return false;
        }
    }
    return lws_finalize_write_http_header(wsi_, start, &p, end) == 0;
}

bool LwsExchange::send_body(char* data, std::size_t size, bool last) {
    return lws_write(wsi_, reinterpret_cast<unsigned char*>(data), size, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) ==
           static_cast<int>(size);
}

void LwsExchange::want_writable() { lws_callback_on_writable(wsi_); }

int LwsExchange::complete(bool close) {
    if (close) {
        // What the client sent after the refused request is not read:
        // take what is already here so that closing does not reset the
        // connection before the client has read the answer.
        const int fd = lws_get_socket_fd(wsi_);
        char sink[4096];
        for (int i = 0; fd >= 0 && i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
        }
        return -1;
    }
    return lws_http_transaction_completed(wsi_) != 0 ? -1 : 0;
}

struct lws* LwsExchange::stream() { return wsi_; }

} // namespace roost
