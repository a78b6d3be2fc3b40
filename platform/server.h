// The network side of Roost: one single-threaded libwebsockets context with
// an HTTP and an HTTPS listener (vhosts) serving the same protocol (the
// page, the HTTP API, Server-Sent Events and the WebSocket endpoint /ws),
// in front of one Broker (the core).
#pragma once

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct lws_context;

namespace roost {

struct Settings;
struct TlsMaterial;
class Runtime;

class Server {
public:
    Server();
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Reserves the core's memory, creates the context and the listeners.
    // Returns false and sets `err` (naming the port and the OS's reason,
    // e.g. "Address already in use") when a listener cannot be opened.
    // `settings` and `tls` must outlive the Server.
    [[nodiscard]] bool start(const Settings& settings, const TlsMaterial& tls, std::string& err);

    // Runs the event loop until stop(); then says `bye` (close 1001) to every
    // session and gives them up to two seconds to go.
    void run();

    // Asks run() to return; safe in a signal handler (a flag and one write()).
    void stop();

    // SIGHUP: asks run() to call `reload` between passes (safe in a signal
    // handler). `reload` re-reads the settings and updates the tokens and
    // origins in the Settings given to start(); then the server applies
    // them: new Origins and tokens for every new connection and request,
    // while connected sessions keep the rights they were granted (a session
    // whose token was removed can no longer join or say).
    using Reload = std::function<bool()>;
    void on_reload(Reload reload) { reload_ = std::move(reload); }
    void request_reload();

    int http_port() const { return http_port_; }
    int https_port() const { return https_port_; }
    std::string reserved_report() const;
    // The exit code for a failed start(): 2 for the data directory (a file
    // from a newer format or for other sizes, one in use, unreadable), else 1.
    int failure_exit() const { return failure_exit_; }

private:
    bool open_journal(const Settings& settings, std::string& err);
    std::uint64_t sync_journal();

    std::unique_ptr<Runtime> rt_;
    ::lws_context* context_ = nullptr;
    int http_port_ = -1;
    int https_port_ = -1;
    void reload();

    volatile std::sig_atomic_t stop_requested_ = 0;
    volatile std::sig_atomic_t reload_requested_ = 0;
    Reload reload_;
    int failure_exit_ = 1;
    std::uint64_t last_sync_ms_ = 0;
};

} // namespace roost
