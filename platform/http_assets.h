// The lws protocol that answers plain HTTP requests: the packed page and
// /ca.crt. It translates lws callbacks into lookups and writes, nothing else.
#pragma once

#include <libwebsockets.h>

#include <string>

namespace roost {

// Per-vhost state the protocol reads: the CA certificate to serve (may be
// empty when a certificate was configured).
struct HttpAssetsVhost {
    const std::string* ca_pem = nullptr;
};

// The protocol entry ("http") for a vhost's protocol list.
struct lws_protocols http_assets_protocol();

} // namespace roost
