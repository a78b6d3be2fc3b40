#include "platform/server.h"

#include "platform/settings.h"
#include "platform/certs.h"
#include "platform/conn.h"
#include "platform/mqtt_bridge.h"
#include "platform/os.h"
#include "platform/runtime.h"
#include "platform/rx_arena.h"
#include "platform/security_headers.h"

#include <libwebsockets.h>
#if defined(ROOST_WITH_LIBUV)
#if !defined(LWS_WITH_LIBUV)
#error "ROOST_WITH_LIBUV needs libwebsockets built with LWS_WITH_LIBUV (make ROOST_WITH_LIBUV=ON)"
#endif
#include <uv.h>
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace roost {
namespace {

// Every vhost serves the same protocol; lws keeps pointers into this list.
const struct lws_protocols kProtocols[] = {
    roost_protocol(),
    LWS_PROTOCOL_LIST_TERM,
};

SystemClock g_clock;
OsRandom g_random;

// The event loop backend, chosen at build time (ROOST_WITH_LIBUV). Each
// gives Server the same operations:
//   loop_prepare(info)  selects the backend for lws_create_context()
//   wake_in(ctx, ms)    the next pass returns within `ms` even without a
//                       socket event (the core's timers, the shutdown deadline)
//   loop_pass(ctx)      waits for socket events or the wake-up and dispatches
//                       them to the protocol callback; false when the loop
//                       cannot go on (an error, or nothing left to wait for)
//   loop_finish()       cancels the wake-up
//   loop_destroy(ctx)   destroys the context (and the loop)
#if !defined(ROOST_WITH_LIBUV)
// lws's own poll() loop: lws_service() sleeps until a socket event or lws's
// earliest sul, so the wake-up is a sul. Each pass costs O(connections):
// poll() and lws walk every descriptor.
lws_sorted_usec_list_t g_wakeup;
void on_wakeup(lws_sorted_usec_list_t*) {}

bool loop_prepare(lws_context_creation_info&, lws_context**, std::string&) { return true; }

void wake_in(lws_context* ctx, std::uint64_t ms) {
    lws_sul_schedule(ctx, 0, &g_wakeup, on_wakeup, static_cast<lws_usec_t>(ms) * LWS_US_PER_MS);
}

bool loop_pass(lws_context* ctx) { return lws_service(ctx, 0) >= 0; }

void loop_finish() { lws_sul_cancel(&g_wakeup); }

void loop_destroy(lws_context* ctx) {
    if (ctx != nullptr) {
        lws_context_destroy(ctx);
    }
}
#else
// libuv (epoll: a pass costs O(ready sockets)). lws runs on a loop Roost
// owns (lws calls it "foreign") and Server turns it one pass at a time:
// - not lws_service(): with an event library it is uv_run(UV_RUN_DEFAULT),
//   which returns only when the loop stops, so tick() and stop() would never
//   run. uv_run(UV_RUN_ONCE) waits once, dispatches, and returns.
// - a foreign loop, because on a loop of its own lws starts libuv signal
//   watchers for SIGINT, SIGTERM, SIGHUP, SIGSEGV and SIGFPE that destroy the
//   context from inside the loop; on ours it installs none, and main()'s
//   SIGINT/SIGTERM handler (stop(): a flag and lws_cancel_service(), whose
//   event pipe is one of the loop's descriptors) stays the only one.
// - the wake-up is a uv timer, not a sul: under libuv lws re-arms its sul
//   timer only from its own I/O and timer callbacks, so a sul scheduled here,
//   between passes, would not wake the loop. The same goes for
//   lws_set_timeout() and any lws_sul from Broker::tick(): code run between
//   passes only asks for writable callbacks (runtime.cpp), which arm the
//   descriptor at once.
uv_loop_t g_loop;
uv_timer_t g_wakeup;
bool g_loop_ready = false;
void* g_loops[1] = {&g_loop};
void on_wakeup(uv_timer_t*) {}

bool loop_prepare(lws_context_creation_info& info, lws_context** pcontext, std::string& err) {
    if (const int rc = uv_loop_init(&g_loop); rc != 0) {
        err = std::string("cannot create the libuv loop: ") + uv_strerror(rc);
        return false;
    }
    uv_timer_init(&g_loop, &g_wakeup);
    g_loop_ready = true;
    info.options |= LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = g_loops;
    info.pcontext = pcontext; // set to null when the context is finally freed
    return true;
}

void wake_in(lws_context*, std::uint64_t ms) { uv_timer_start(&g_wakeup, on_wakeup, ms, 0); }

bool loop_pass(lws_context*) { return uv_run(&g_loop, UV_RUN_ONCE) != 0; }

void loop_finish() { uv_timer_stop(&g_wakeup); }

// On a foreign loop lws closes its handles asynchronously: the first
// lws_context_destroy() closes every connection and lws's handles, the loop
// runs their close callbacks (no I/O is waited for; the budget is lws's own
// for its internal loops), and a second call frees the context (and nulls
// the pointer given as info.pcontext).
void loop_destroy(lws_context* const& ctx) {
    if (ctx != nullptr) {
        lws_context_destroy(ctx);
    }
    if (!g_loop_ready) {
        return;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&g_wakeup), nullptr);
    for (int budget = 10000; budget > 0 && uv_run(&g_loop, UV_RUN_NOWAIT) != 0; --budget) {
    }
    if (ctx != nullptr) {
        lws_context_destroy(ctx);
    }
    uv_loop_close(&g_loop);
    g_loop_ready = false;
}
#endif

// Wakes the event loop by `due_ms` (at the latest in a second), else a pass
// sleeps until a socket event.
void schedule_wakeup(lws_context* ctx, std::uint64_t due_ms) {
    const std::uint64_t now = g_clock.now_ms();
    std::uint64_t delay = due_ms > now ? due_ms - now : 0;
    if (delay > 1000) delay = 1000;
    wake_in(ctx, delay);
}

// Why a listener on bind:port cannot be had ("Address already in use",
// "Permission denied", "Cannot assign requested address", ...), found by
// binding a probe socket the same way; empty when it can.
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
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0 && bind.empty() && errno == EAFNOSUPPORT) {
        // A kernel without IPv6: every address is every IPv4 address.
        ss = sockaddr_storage{};
        auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
        a4->sin_family = AF_INET;
        a4->sin_port = htons(static_cast<uint16_t>(port));
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
        len = sizeof *a4;
        fd = socket(AF_INET, SOCK_STREAM, 0);
    }
    if (fd < 0) {
        return std::strerror(errno);
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    std::string why;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        why = std::strerror(errno);
    }
    close(fd);
    return why;
}

} // namespace

Server::Server() = default;

Server::~Server() { loop_destroy(context_); }

std::string Server::reserved_report() const { return rt_ ? rt_->broker.reserved_report() : std::string(); }

bool Server::start(const Settings& settings, const TlsMaterial& tls, std::string& err) {
    rt_ = std::make_unique<Runtime>(settings, tls, g_clock, g_random);
    if (!open_journal(settings, err) || !rt_->mqtt.configure(settings, g_random.next(), err)) {
        failure_exit_ = 2;
        return false;
    }
    // lws asks for rx_buffer_size + LWS_PRE + 4 bytes per WebSocket.
    install_rx_arena(rt_->conn_slots.size(), kWsRxBuffer + LWS_PRE + 4);
    lws_context_creation_info info{};
    info.user = rt_.get();
    info.timeout_secs = static_cast<unsigned int>(settings.handshake_timeout_s);
    info.pt_serv_buf_size = 8192;
    // lws sizes its descriptor tables from the open-file limit, which
    // main() raised to the hard limit; they need only this many entries.
    info.fd_limit_per_thread = settings.max_connections + Runtime::kOverflowSlots + Runtime::kOwnFiles;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.gid = static_cast<gid_t>(-1);
    info.uid = static_cast<uid_t>(-1);
    if (!loop_prepare(info, &context_, err)) {
        return false;
    }
    context_ = lws_create_context(&info);
    if (context_ == nullptr) {
        err = "cannot create the libwebsockets context";
        return false;
    }
    rt_->context = context_;
    // Idle WebSocket connections are pinged at half the idle timeout and
    // closed at the timeout.
    static lws_retry_bo_t idle{};
    idle.secs_since_valid_ping = static_cast<uint16_t>(settings.idle_timeout_s / 2);
    idle.secs_since_valid_hangup = static_cast<uint16_t>(settings.idle_timeout_s);

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
        v.headers = security_headers(); // Roost's CSP: lws's own refuses the manifest and service worker
        v.retry_and_idle_policy = &idle;
        v.keepalive_timeout = static_cast<int>(settings.handshake_timeout_s);
        // Slowloris: the whole header block must arrive within this time.
        v.timeout_secs_ah_idle = static_cast<unsigned int>(settings.handshake_timeout_s);
        if (l.tls) {
            v.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
            v.server_ssl_cert_mem = tls.cert_pem.data();
            v.server_ssl_cert_mem_len = static_cast<unsigned int>(tls.cert_pem.size());
            v.server_ssl_private_key_mem = tls.key_pem.data();
            v.server_ssl_private_key_mem_len = static_cast<unsigned int>(tls.key_pem.size());
        }
        // lws logs a bind that fails and goes on without the listener (it
        // retries an address that may appear later), so try the address
        // first: a listener that cannot be had stops the broker (exit 1).
        const std::string where = (settings.bind.empty() ? std::string("*") : settings.bind) + ":" +
                                  std::to_string(l.port) + " (" + l.name + "): ";
        if (const std::string why = why_listen_fails(settings.bind, l.port); !why.empty()) {
            err = "cannot listen on " + where + why;
            return false;
        }
        struct lws_vhost* vh = lws_create_vhost(context_, &v);
        if (vh == nullptr || lws_get_vhost_listen_port(vh) <= 0) {
            const std::string why = why_listen_fails(settings.bind, l.port);
            err = "cannot listen on " + where + (why.empty() ? "libwebsockets could not open the listener" : why);
            return false;
        }
        *l.bound = lws_get_vhost_listen_port(vh);
    }
    // The page's own origins: every name and address of this machine (those
    // the certificate carries) and the bound address, on the bound ports.
    std::vector<std::string> names = certificate_names();
    if (!settings.bind.empty()) names.push_back("IP:" + settings.bind);
    rt_->origins.set(names, http_port_, https_port_, settings.origins);
    if (rt_->mqtt.enabled()) {
        // The bridge's client connection: a vhost of its own for its client
        // TLS settings (the CA that signs the MQTT broker, our certificate).
        lws_context_creation_info v{};
        v.vhost_name = "mqtt-client";
        v.port = CONTEXT_PORT_NO_LISTEN_SERVER;
        v.protocols = MqttBridge::protocol();
        if (rt_->mqtt.tls()) {
            v.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
            v.client_ssl_ca_filepath = settings.mqtt_ca.c_str();
            if (!settings.mqtt_cert.empty()) {
                v.client_ssl_cert_filepath = settings.mqtt_cert.c_str();
                v.client_ssl_private_key_filepath = settings.mqtt_key.c_str();
            }
        }
        struct lws_vhost* vh = lws_create_vhost(context_, &v);
        if (vh == nullptr) {
            err = "mqtt: cannot set up the client (check mqtt_ca, mqtt_cert and mqtt_key)";
            failure_exit_ = 2;
            return false;
        }
        rt_->mqtt.start(rt_->broker, rt_->post_decoder, context_, vh);
    }
    return true;
}

// With a data directory: the files, replayed into the core before any
// client can connect; then every new history, message, key and read mark
// goes to the journal first.
bool Server::open_journal(const Settings& settings, std::string& err) {
    if (settings.data_dir.empty()) {
        std::printf("roost: no data directory: history lives in memory only and is lost at every restart\n");
        return true;
    }
    const JournalGeometry g = journal_geometry(settings.limits);
    const FsyncPolicy policy = settings.fsync == "always"  ? FsyncPolicy::always
                               : settings.fsync == "never" ? FsyncPolicy::never
                                                           : FsyncPolicy::batch;
    auto j = std::make_unique<DiskJournal>();
    std::vector<std::string> report;
    const bool ok = j->open(settings.data_dir, g, policy, rt_->broker, report, err);
    for (const std::string& line : report) {
        std::printf("roost: %s\n", line.c_str());
    }
    if (!ok) {
        err = "data directory: " + err;
        return false;
    }
    std::printf("roost: history in %s: %.1f MiB on disk, fsync = %s%s\n", settings.data_dir.c_str(),
                static_cast<double>(j->file_bytes()) / (1024.0 * 1024.0), settings.fsync.c_str(),
                policy == FsyncPolicy::batch ? (" (every " + std::to_string(settings.fsync_ms) + " ms)").c_str() : "");
    rt_->journal = std::move(j);
    rt_->broker.set_journal(rt_->journal.get());
    rt_->broker.start_bots(); // restored reminders, games and watches go on
    return true;
}

// The batch policy's group commit: unsynced writes are synced fsync_ms after
// the previous sync (always: before each reply, see Runtime::durable; at
// the end of every pass too). While the disk refuses syncs, one retry a
// second; the first that succeeds releases what waited for it.
std::uint64_t Server::sync_journal() {
    DiskJournal* j = rt_->journal.get();
    if (j == nullptr || j->policy() == FsyncPolicy::never) return UINT64_MAX;
    const std::uint64_t now = g_clock.now_ms();
    const std::uint64_t wait = j->failing() ? 1000 : rt_->settings.fsync_ms;
    if (j->dirty() && (now >= last_sync_ms_ + wait || (j->policy() == FsyncPolicy::always && !j->failing()))) {
        rt_->journal_synced(j->sync());
        last_sync_ms_ = now;
    } else if (!j->dirty()) {
        last_sync_ms_ = now;
    }
    return j->dirty() ? last_sync_ms_ + (j->failing() ? 1000 : rt_->settings.fsync_ms) : UINT64_MAX;
}

void Server::run() {
    bool alive = true;
    std::uint64_t sync_due = UINT64_MAX;
    while (alive && stop_requested_ == 0) {
        schedule_wakeup(context_, std::min(rt_->broker.next_timer_due(), sync_due));
        alive = loop_pass(context_);
        if (reload_requested_ != 0) reload();
        rt_->broker.tick();
        sync_due = sync_journal();
    }
    // Graceful shutdown: bye + close 1001 to every session.
    rt_->shutting_down = true;
    for (SessionId s = 1; s <= rt_->session_wsi.size(); ++s) {
        if (rt_->session_wsi[s - 1] != nullptr) {
            rt_->broker.shut(s, CloseCode::shutdown, "shutdown");
        }
    }
    const std::uint64_t deadline = g_clock.now_ms() + 2000;
    while (rt_->broker.session_count() > 0 && g_clock.now_ms() < deadline && alive) {
        schedule_wakeup(context_, g_clock.now_ms() + 100);
        alive = loop_pass(context_);
    }
    if (rt_->journal != nullptr) {
        // Whatever the policy: a clean shutdown leaves nothing unsynced (that
        // the disk takes).
        rt_->journal_synced(rt_->journal->sync());
    }
    rt_->mqtt.stop();
    loop_finish();
}

void Server::request_reload() {
    reload_requested_ = 1;
    if (context_ != nullptr) {
        lws_cancel_service(context_);
    }
}

void Server::reload() {
    reload_requested_ = 0;
    if (!reload_) return;
    std::vector<std::string> old_names;
    for (const TokenSpec& t : rt_->settings.tokens) old_names.push_back(t.name);
    if (!reload_()) return; // the running settings are kept; reload_ said why
    // Connected sessions keep their rights: a grant made while no token was
    // configured stays open, a token's grant follows that token (by name)
    // to its new place, and a removed token's grant is denied from now on.
    std::vector<std::int32_t> map(old_names.size(), Authorizer::denied);
    for (std::size_t i = 0; i < old_names.size(); ++i) {
        for (std::size_t k = 0; k < rt_->settings.tokens.size(); ++k) {
            if (rt_->settings.tokens[k].name == old_names[i]) map[i] = static_cast<std::int32_t>(k);
        }
    }
    rt_->broker.remap_grants(map);
    std::vector<std::string> names = certificate_names();
    if (!rt_->settings.bind.empty()) names.push_back("IP:" + rt_->settings.bind);
    rt_->origins.set(names, http_port_, https_port_, rt_->settings.origins);
    std::printf("roost: reloaded: %zu token(s), %zu allowed origin(s)\n", rt_->settings.tokens.size(),
                rt_->settings.origins.size());
}

void Server::stop() {
    stop_requested_ = 1;
    if (context_ != nullptr) {
        lws_cancel_service(context_); // one write() to lws's event pipe
    }
}

} // namespace roost
