// The security headers on every HTTP response of Roost's vhosts: the page,
// the HTTP API, SSE, /healthz, /metrics. lws adds a vhost's `headers` list
// to each status line it writes (lws_add_http_header_status), so this list
// is given to every vhost as `lws_context_creation_info::headers`.
//
// Why not lws's LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE:
// its fixed policy has no `manifest-src` and no `worker-src`, so both fall
// back to `default-src 'none'` and the browser refuses the page's web app
// manifest and its service worker (docs/page.md: installing the page).
// This is the same policy with those two allowed from the page's own origin,
// and without the obsolete X-XSS-Protection.
//
// The policy, directive by directive:
//   default-src 'none'                 nothing unless named below
//   script-src / style-src 'self'      the packed files only: no inline script
//                                      or style, no eval
//   img-src 'self' data:               the icons; data: for nothing today but
//                                      kept from lws's set (harmless)
//   connect-src 'self' ws: wss:        fetch, EventSource and the WebSocket
//   manifest-src / worker-src 'self'   /manifest.webmanifest and /sw.js
//   frame-ancestors 'none'             never framed (and X-Frame-Options for
//                                      browsers without it)
//   base-uri 'none', form-action 'self'
#pragma once

#include <libwebsockets.h>

namespace roost {

// A linked list (lws walks `next`) with static storage: lws keeps the
// pointer for the life of the vhost.
inline const lws_protocol_vhost_options* security_headers() {
    static const lws_protocol_vhost_options list[] = {
        {nullptr, nullptr, "referrer-policy:", "no-referrer"},
        {&list[0], nullptr, "x-frame-options:", "deny"},
        {&list[1], nullptr, "x-content-type-options:", "nosniff"},
        {&list[2], nullptr, "content-security-policy:",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src 'self' ws: wss:; manifest-src 'self'; worker-src 'self'; "
         "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    };
    return &list[3];
}

} // namespace roost
