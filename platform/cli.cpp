#include "platform/cli.h"

#include "platform/settings.h"
#include "platform/config.h"
#include "platform/lan_urls.h"
#include "platform/qr.h"

#include <cjson/cJSON.h>

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace roost {
namespace {

// How long `roost status` waits to connect, and then for the answer.
constexpr int kStatusTimeoutS = 5;
// /healthz is a few hundred bytes; anything past this is not Roost.
constexpr std::size_t kStatusMaxBytes = 64 * 1024;

const char* const kQrUsage = "usage: roost qr [--config FILE] [--bind ADDR] [--http-port PORT] [--https-port PORT]\n";
const char* const kStatusUsage = "usage: roost status [--config FILE] [--bind ADDR] [--http-port PORT]\n";

// The settings the server would run with: the package's config file first
// when no --config is given and it can be read, then argv[2..].
bool load_for_subcommand(int argc, char** argv, const char* usage, Settings& s, int& exit_code) {
    std::vector<const char*> args = {argv[1]};
    if (config_path_from_args(argc - 1, argv + 1).empty()) {
        if (access(kPackageConfig, R_OK) == 0) {
            args.push_back("--config");
            args.push_back(kPackageConfig);
        } else if (errno != ENOENT) {
            std::fprintf(stderr, "roost %s: cannot read %s (%s): using the default ports (sudo reads it)\n",
                         argv[1], kPackageConfig, std::strerror(errno));
        }
    }
    for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
    std::string message;
    ArgsAction action = ArgsAction::run;
    if (load_settings(static_cast<int>(args.size()), args.data(), s, message, action)) return true;
    if (action == ArgsAction::help || action == ArgsAction::version) {
        std::fputs(usage, stdout);
        exit_code = 0;
    } else {
        std::fprintf(stderr, "roost %s: %s\n%s", argv[1], message.c_str(), usage);
        exit_code = 2;
    }
    return false;
}

int run_qr(int argc, char** argv) {
    Settings s;
    int code = 0;
    if (!load_for_subcommand(argc, argv, kQrUsage, s, code)) return code;
    if (s.http_port == 0 || s.https_port == 0) {
        std::fprintf(stderr, "roost qr: a port is 0 (any free port): pass the one the broker printed, "
                             "e.g. --http-port 8080\n");
        return 2;
    }
    const std::vector<LanUrl> urls = lan_urls(s.bind, s.http_port, s.https_port);
    std::string target = qr_url(urls);
    for (const LanUrl& u : urls) {
        if (target.empty() && !u.loopback && !u.https.empty()) target = u.https;
    }
    if (target.empty()) {
        std::fprintf(stderr, "roost qr: this machine has no address a phone could reach (only loopback); "
                             "is it on the network?\n");
        return 1;
    }
    const std::string symbol = qr_terminal(target);
    std::printf("Scan to open %s on a phone on the same network:\n%s", target.c_str(), symbol.c_str());
    std::vector<std::string> also;
    const std::string local = local_name_url(s.http_port);
    if (!local.empty()) also.push_back(local + "  (where the phone resolves .local names)");
    for (const LanUrl& u : urls) {
        if (!u.http.empty() && u.http != target) also.push_back(u.http);
        if (!u.https.empty() && u.https != target) {
            also.push_back(u.https + (u.http.empty() ? "" : "  (trust the CA first: " + u.http + "trust.html)"));
        }
    }
    if (!also.empty()) {
        std::printf("Also:\n");
        for (const std::string& line : also) std::printf("  %s\n", line.c_str());
    }
    return 0;
}

struct AddrInfoFree {
    void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

// GET /healthz over plain HTTP; fills `status` and `body`, or `err`.
bool get_health(const std::string& host, int port, int& status, std::string& body, std::string& err) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) {
        err = "cannot resolve " + host + ": " + gai_strerror(rc);
        return false;
    }
    std::unique_ptr<addrinfo, AddrInfoFree> list(found);
    int fd = -1;
    err = "no address for " + host;
    for (addrinfo* a = list.get(); a != nullptr && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        timeval tv{kStatusTimeoutS, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); // bounds connect() too
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            err = std::string("no broker answers on ") + host + " port " + service + " (" + std::strerror(errno) + ")";
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) return false;
    const std::string req = "GET /healthz HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    std::string reply;
    bool ok = send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
    char buf[4096];
    while (ok && reply.size() <= kStatusMaxBytes) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            ok = false;
            break;
        }
        reply.append(buf, static_cast<std::size_t>(n));
    }
    const int saved = errno;
    close(fd);
    if (!ok) {
        err = std::string("no answer from ") + host + " port " + service + " (" + std::strerror(saved) + ")";
        return false;
    }
    const std::size_t end = reply.find("\r\n\r\n");
    if (reply.compare(0, 5, "HTTP/") != 0 || end == std::string::npos || reply.size() > kStatusMaxBytes) {
        err = host + " port " + service + " did not answer like Roost (not an HTTP reply)";
        return false;
    }
    const std::size_t space = reply.find(' ');
    status = space < end ? std::atoi(reply.c_str() + space + 1) : 0;
    body = reply.substr(end + 4);
    return true;
}

std::string value_text(const cJSON* v) {
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v) && std::floor(v->valuedouble) == v->valuedouble && std::fabs(v->valuedouble) < 1e15) {
        return std::to_string(static_cast<long long>(v->valuedouble));
    }
    char* text = cJSON_PrintUnformatted(v);
    std::string out = text != nullptr ? text : "?";
    cJSON_free(text);
    return out;
}

int run_status(int argc, char** argv) {
    Settings s;
    int code = 0;
    if (!load_for_subcommand(argc, argv, kStatusUsage, s, code)) return code;
    if (s.http_port < 0) {
        std::fprintf(stderr, "roost status: http_port is off; /healthz is on HTTPS only: curl --cacert "
                             "DATA/ca.crt https://localhost:%d/healthz\n", s.https_port);
        return 2;
    }
    if (s.http_port == 0) {
        std::fprintf(stderr, "roost status: http_port is 0 (any free port): pass the one the broker printed, "
                             "e.g. --http-port 8080\n");
        return 2;
    }
    const bool wildcard = s.bind.empty() || s.bind == "0.0.0.0" || s.bind == "::";
    const std::string host = wildcard ? "localhost" : s.bind;
    int status = 0;
    std::string body, err;
    if (!get_health(host, s.http_port, status, body, err)) {
        std::fprintf(stderr, "roost status: %s\n", err.c_str());
        return 1;
    }
    cJSON* doc = cJSON_ParseWithLength(body.data(), body.size());
    if (doc == nullptr || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        std::fprintf(stderr, "roost status: HTTP %d from %s port %d, not Roost's /healthz\n", status, host.c_str(),
                     s.http_port);
        return 1;
    }
    std::size_t width = std::strlen("address");
    for (const cJSON* item = doc->child; item != nullptr; item = item->next) {
        width = std::max(width, std::strlen(item->string));
    }
    std::printf("%-*s  %s\n", static_cast<int>(width), "address",
                ("http://" + host + ":" + std::to_string(s.http_port) + "/").c_str());
    for (const cJSON* item = doc->child; item != nullptr; item = item->next) {
        std::printf("%-*s  %s\n", static_cast<int>(width), item->string, value_text(item).c_str());
    }
    const cJSON* state = cJSON_GetObjectItemCaseSensitive(doc, "status");
    const bool healthy = status == 200 && cJSON_IsString(state) && std::strcmp(state->valuestring, "ok") == 0;
    cJSON_Delete(doc);
    return healthy ? 0 : 1;
}

} // namespace

bool is_subcommand(const char* arg) {
    return arg != nullptr && (std::strcmp(arg, "qr") == 0 || std::strcmp(arg, "status") == 0);
}

int run_subcommand(int argc, char** argv) {
    if (std::strcmp(argv[1], "qr") == 0) return run_qr(argc, argv);
    return run_status(argc, argv);
}

const char* subcommand_help() {
    return "\nSubcommands (settings as above; without --config they read /etc/roost/roost.conf when readable):\n"
           "  roost qr        the URL to open on a phone, as a QR code in this terminal\n"
           "  roost status    /healthz of the running broker, as a table (exit 1 when it does not answer)\n";
}

} // namespace roost
