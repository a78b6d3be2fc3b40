// roost: parse settings, prepare TLS, open the listeners, run the event loop
// until SIGINT/SIGTERM. Exit codes: 0 clean, 1 runtime failure, 2 usage.
#include "broker/broker.h"
#include "broker/settings.h"
#include "broker/version.h"
#include "platform/certs.h"
#include "platform/os.h"
#include "platform/server.h"

#include <libwebsockets.h>
#include <mbedtls/version.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

roost::Server* g_server = nullptr;

void on_signal(int) {
    if (g_server != nullptr) {
        g_server->stop();
    }
}

void lws_log(int level, const char* line) {
    const char* tag = level == LLL_ERR ? "error" : level == LLL_WARN ? "warn" : "lws";
    std::fprintf(stderr, "roost: %s: %s", tag, line);
}

int lws_levels(const std::string& level) {
    if (level == "debug") return LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO;
    if (level == "info" || level == "warn") return LLL_ERR | LLL_WARN;
    return LLL_ERR;
}

// Until the WebSocket endpoint is wired to the core, nobody is woken.
struct NoTransport final : roost::Transport {
    void wake(roost::SessionId) override {}
};

void print_version() {
    char mbed[32] = {};
    mbedtls_version_get_string(mbed);
    std::printf("roost %s\nlibwebsockets %s\nmbedTLS %s\n", ROOST_VERSION, lws_get_library_version(), mbed);
}

} // namespace

int main(int argc, char** argv) {
    roost::Settings settings;
    const roost::ArgsResult args = roost::parse_args(argc, argv, settings);
    switch (args.action) {
    case roost::ArgsAction::help:
        std::fputs(roost::help_text("roost").c_str(), stdout);
        return 0;
    case roost::ArgsAction::version:
        print_version();
        return 0;
    case roost::ArgsAction::error:
        std::fprintf(stderr, "roost: %s\n", args.message.c_str());
        return 2;
    case roost::ArgsAction::run:
        break;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    lws_set_log_level(lws_levels(settings.log_level), lws_log);

    // The core reserves all its memory here, once.
    roost::SystemClock clock;
    roost::OsRandom random;
    NoTransport transport;
    roost::Broker broker(roost::CoreLimits{}, clock, random, transport);
    std::printf("roost: %s\n", broker.reserved_report().c_str());

    roost::TlsMaterial tls;
    std::string err;
    if (settings.https_port >= 0) {
        if (!roost::prepare_tls(settings, tls, err)) {
            std::fprintf(stderr, "roost: TLS: %s\n", err.c_str());
            return 1;
        }
        if (!settings.tls_cert.empty()) {
            std::printf("roost: TLS certificate %s (configured)\n", settings.tls_cert.c_str());
        } else if (settings.data_dir.empty()) {
            std::printf("roost: no data directory: running from memory; a new local CA is made at every start\n");
        } else {
            std::printf("roost: local CA %s/ca.crt; server certificate %s\n", settings.data_dir.c_str(),
                        tls.issued ? "issued now" : "kept");
        }
    }

    roost::Server server;
    if (!server.start(settings, tls, err)) {
        std::fprintf(stderr, "roost: %s\n", err.c_str());
        return 1;
    }
    g_server = &server;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::printf("roost %s: listening on http port %d and https port %d\n", ROOST_VERSION, server.http_port(),
                server.https_port());
    // The URLs to open: the bound address, or every LAN address.
    std::vector<std::string> hosts;
    if (!settings.bind.empty()) {
        hosts.push_back(settings.bind);
    } else {
        for (const std::string& name : roost::certificate_names()) {
            if (name.rfind("IP:", 0) == 0 && name != "IP:127.0.0.1" && name != "IP:::1") {
                hosts.push_back(name.substr(3));
            }
        }
        if (hosts.empty()) {
            hosts.push_back("localhost");
        }
    }
    for (const std::string& ip : hosts) {
        const std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
        if (server.http_port() >= 0) std::printf("roost: open http://%s:%d/\n", host.c_str(), server.http_port());
        if (server.https_port() >= 0) std::printf("roost: open https://%s:%d/\n", host.c_str(), server.https_port());
    }
    server.run();
    g_server = nullptr;
    std::printf("roost: shutting down\n");
    return 0;
}
