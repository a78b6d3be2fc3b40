// roost: parse settings, prepare TLS, open the listeners, run the event loop
// until SIGINT/SIGTERM. Exit codes: 0 clean, 1 runtime failure, 2 usage.
#include "platform/settings.h"
#include "broker/version.h"
#include "platform/certs.h"
#include "platform/cli.h"
#include "platform/config.h"
#include "platform/lan_urls.h"
#include "platform/os.h"
#include "platform/qr.h"
#include "platform/runtime.h"
#include "platform/server.h"
#include "platform/tls_memory.h"

#include <libwebsockets.h>
#include <mbedtls/version.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <new>
#include <vector>

namespace {

roost::Server* g_server = nullptr;

void on_signal(int) {
    if (g_server != nullptr) {
        g_server->stop();
    }
}

void on_hangup(int) {
    if (g_server != nullptr) {
        g_server->request_reload();
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

void print_version() {
    char mbed[32] = {};
    mbedtls_version_get_string(mbed);
    std::printf("roost %s\nlibwebsockets %s\nmbedTLS %s\n", ROOST_VERSION, lws_get_library_version(), mbed);
}

// Every connection slot needs a descriptor (max_connections, plus the
// overflow slots that are answered "busy"), and so do the listeners, the
// journal, the MQTT link, lws's event pipe and the C library. The soft limit
// is raised to the hard one; when even that is too low, max_connections is
// lowered to fit (and the operator told), or the broker refuses to start.
bool fit_open_files(roost::Settings& settings) {
    const std::uint64_t want = std::uint64_t{settings.max_connections} + roost::Runtime::kOverflowSlots + roost::Runtime::kOwnFiles;
    const std::uint64_t limit = roost::raise_open_files(std::max<std::uint64_t>(want, 1u << 20));
    if (limit == 0 || limit >= want) {
        return true;
    }
    const std::uint64_t floor = roost::Runtime::kOverflowSlots + roost::Runtime::kOwnFiles + 1;
    if (limit < floor) {
        std::fprintf(stderr,
                     "roost: max_connections: the open-file limit is %llu, below the %llu this broker needs to serve "
                     "one connection; raise it (ulimit -n, or LimitNOFILE= in its systemd unit)\n",
                     static_cast<unsigned long long>(limit), static_cast<unsigned long long>(floor));
        return false;
    }
    const auto fit = static_cast<std::uint32_t>(limit - roost::Runtime::kOverflowSlots - roost::Runtime::kOwnFiles);
    std::printf("roost: max_connections lowered from %u to %u: the open-file limit is %llu (raise it with ulimit -n "
                "or LimitNOFILE= to serve more)\n",
                settings.max_connections, fit, static_cast<unsigned long long>(limit));
    settings.max_connections = fit;
    return true;
}

std::string reserve_summary(const roost::Settings& settings) {
    std::vector<roost::ReservePart> parts = roost::core_reserve(settings.limits);
    for (roost::ReservePart& p : roost::platform_reserve(settings)) parts.push_back(std::move(p));
    std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
    std::string s = std::to_string(roost::total_bytes(parts) >> 20) + " MiB; most of it " + parts[0].what + " " +
                    std::to_string(parts[0].bytes >> 20) + " MiB";
    return s;
}

// The core's reservation was checked with the settings; the platform adds
// its request buffers. Together they stay within kMaxReserve.
bool fit_memory(const roost::Settings& settings) {
    std::vector<roost::ReservePart> parts = roost::core_reserve(settings.limits);
    for (roost::ReservePart& p : roost::platform_reserve(settings)) parts.push_back(std::move(p));
    if (roost::total_bytes(parts) <= roost::kMaxReserve) {
        return true;
    }
    std::fprintf(stderr, "roost: the settings would reserve %s, more than %llu MiB\n",
                 reserve_summary(settings).c_str(), static_cast<unsigned long long>(roost::kMaxReserve >> 20));
    return false;
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && roost::is_subcommand(argv[1])) return roost::run_subcommand(argc, argv);
    roost::Settings settings;
    std::string message;
    roost::ArgsAction action = roost::ArgsAction::run;
    if (!roost::load_settings(argc, argv, settings, message, action)) {
        if (action == roost::ArgsAction::help) {
            std::fputs(roost::help_text("roost").c_str(), stdout);
            std::fputs(roost::subcommand_help(), stdout);
            return 0;
        }
        if (action == roost::ArgsAction::version) {
            print_version();
            return 0;
        }
        std::fprintf(stderr, "roost: %s\n", message.c_str());
        return 2;
    }
    if (!roost::use_timezone(settings.timezone)) {
        std::fprintf(stderr, "roost: timezone: '%s' is not an installed zone (see /usr/share/zoneinfo)\n",
                     settings.timezone.c_str());
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    lws_set_log_level(lws_levels(settings.log_level), lws_log);
    if (!fit_open_files(settings) || !fit_memory(settings)) {
        return 2;
    }

    // Before mbedTLS allocates anything: two record buffers per TLS
    // connection, one per connection slot.
    roost::install_tls_memory(2 * (std::size_t{settings.max_connections} + roost::Runtime::kOverflowSlots));

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
    try {
        if (!server.start(settings, tls, err)) {
            std::fprintf(stderr, "roost: %s\n", err.c_str());
            return server.failure_exit();
        }
    } catch (const std::bad_alloc&) {
        // fit_memory() bounds the reservation; a machine with less memory
        // than that (no overcommit, a small board) still says so cleanly.
        std::fprintf(stderr, "roost: this machine could not give the memory the settings reserve (%s); "
                             "lower max_rooms, ring_bytes, max_sessions or rooms_per_session\n",
                     reserve_summary(settings).c_str());
        return 2;
    }
    std::printf("roost: %s\n", server.reserved_report().c_str());
    // SIGHUP (systemctl reload): the tokens and allowed origins are read
    // again; every other setting waits for a restart, and says so.
    server.on_reload([&settings, argc, argv]() {
        roost::Settings fresh;
        std::string why;
        roost::ArgsAction act = roost::ArgsAction::run;
        if (!roost::load_settings(argc, argv, fresh, why, act)) {
            std::fprintf(stderr, "roost: reload: %s; the running settings are kept\n", why.c_str());
            return false;
        }
        for (const std::string& name : roost::changes_needing_restart(settings, fresh)) {
            std::fprintf(stderr, "roost: reload: %s changed; it takes effect at the next restart\n", name.c_str());
        }
        settings.tokens = fresh.tokens;
        settings.origins = fresh.origins;
        return true;
    });
    g_server = &server;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    struct sigaction hup {};
    hup.sa_handler = on_hangup;
    sigemptyset(&hup.sa_mask);
    sigaction(SIGHUP, &hup, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::printf("roost %s: listening on http port %d and https port %d\n", ROOST_VERSION, server.http_port(),
                server.https_port());
    // The URLs to open; a QR code of the one for a phone's camera (http:
    // no certificate to trust first) where a terminal can show it.
    const std::vector<roost::LanUrl> urls = roost::lan_urls(settings.bind, server.http_port(), server.https_port());
    for (const roost::LanUrl& u : urls) {
        if (!u.http.empty()) std::printf("roost: open %s\n", u.http.c_str());
        if (!u.https.empty()) std::printf("roost: open %s\n", u.https.c_str());
    }
    const std::string qr_url = roost::qr_url(urls);
    if (!qr_url.empty() && isatty(STDOUT_FILENO) == 1) {
        std::printf("roost: scan to open %s\n%s", qr_url.c_str(), roost::qr_terminal(qr_url).c_str());
    } else if (!qr_url.empty()) {
        std::printf("roost: `roost qr` in a terminal shows a QR code of %s\n", qr_url.c_str());
    }
    server.run();
    g_server = nullptr;
    std::printf("roost: shutting down\n");
    return 0;
}
