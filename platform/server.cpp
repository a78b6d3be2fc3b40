#include "platform/server.h"

#include "broker/settings.h"
#include "platform/certs.h"
#include "platform/http_assets.h"

#include <libwebsockets.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace roost {
namespace {

// Every vhost serves the same protocols; lws keeps pointers into this list.
const struct lws_protocols kProtocols[] = {
    http_assets_protocol(),
    LWS_PROTOCOL_LIST_TERM,
};

// lws does not say why a listener failed; binding a probe socket the same
// way does ("Address already in use", "Permission denied", ...).
std::string why_listen_fails(const std::string& bind, int port) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET6;
    if (bind.empty()) {
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(static_cast<uint16_t>(port));
        a6->sin6_addr = in6addr_any;
        len = sizeof *a6;
    } else if (auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
               inet_pton(AF_INET, bind.c_str(), &a4->sin_addr) == 1) {
        family = AF_INET;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(static_cast<uint16_t>(port));
        len = sizeof *a4;
    } else if (auto* b6 = reinterpret_cast<sockaddr_in6*>(&ss);
               inet_pton(AF_INET6, bind.c_str(), &b6->sin6_addr) == 1) {
        b6->sin6_family = AF_INET6;
        b6->sin6_port = htons(static_cast<uint16_t>(port));
        len = sizeof *b6;
    } else {
        return "'" + bind + "' is not an IPv4 or IPv6 address of this machine";
    }
    const int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        return std::strerror(errno);
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    std::string why = "unknown reason";
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        why = std::strerror(errno);
    }
    close(fd);
    return why;
}

} // namespace

Server::~Server() {
    if (context_ != nullptr) {
        lws_context_destroy(context_);
    }
}

bool Server::start(const Settings& settings, const TlsMaterial& tls, std::string& err) {
    lws_context_creation_info info{};
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.gid = static_cast<gid_t>(-1);
    info.uid = static_cast<uid_t>(-1);
    context_ = lws_create_context(&info);
    if (context_ == nullptr) {
        err = "cannot create the libwebsockets context";
        return false;
    }

    struct Listener {
        const char* name;
        int port;
        bool tls;
        int* bound;
    } listeners[] = {{"http", settings.http_port, false, &http_port_},
                     {"https", settings.https_port, true, &https_port_}};
    for (const Listener& l : listeners) {
        if (l.port < 0) {
            continue;
        }
        lws_context_creation_info v{};
        v.vhost_name = l.name;
        v.port = l.port;
        v.iface = settings.bind.empty() ? nullptr : settings.bind.c_str();
        v.protocols = kProtocols;
        v.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
        if (l.tls) {
            v.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
            v.server_ssl_cert_mem = tls.cert_pem.data();
            v.server_ssl_cert_mem_len = static_cast<unsigned int>(tls.cert_pem.size());
            v.server_ssl_private_key_mem = tls.key_pem.data();
            v.server_ssl_private_key_mem_len = static_cast<unsigned int>(tls.key_pem.size());
        }
        struct lws_vhost* vh = lws_create_vhost(context_, &v);
        if (vh == nullptr) {
            err = std::string("cannot listen on ") + (settings.bind.empty() ? "*" : settings.bind) + ":" +
                  std::to_string(l.port) + " (" + l.name + "): " + why_listen_fails(settings.bind, l.port);
            return false;
        }
        auto* priv = static_cast<HttpAssetsVhost*>(
            lws_protocol_vh_priv_zalloc(vh, &kProtocols[0], sizeof(HttpAssetsVhost)));
        if (priv == nullptr) {
            err = "out of memory";
            return false;
        }
        priv->ca_pem = &tls.ca_pem;
        *l.bound = lws_get_vhost_listen_port(vh);
    }
    return true;
}

void Server::run() {
    int n = 0;
    while (n >= 0 && stop_requested_ == 0) {
        n = lws_service(context_, 0);
    }
}

void Server::stop() {
    stop_requested_ = 1;
    if (context_ != nullptr) {
        lws_cancel_service(context_); // one write() to lws's event pipe
    }
}

} // namespace roost
