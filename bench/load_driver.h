// The load driver: roost-bench's connections on one epoll loop, the
// scenarios that drive them, and the measurement they report as one JSON
// object on stdout. What goes over each connection is its dialect's
// business (dialect.h).
//
// Scenarios (one per run):
//   fanout    one room of --members clients; a publisher sends --rate
//             messages/s (open loop; 0 = closed loop, as fast as --window
//             outstanding messages allow) for --seconds; delivery latency
//             from a send timestamp carried in each message
//   all2all   --members clients in one room each send one message; wait for
//             all N^2 deliveries; repeat for --seconds
//   idle      --conns connections held open after hello (MQTT: CONNECT);
//             the server's RSS before and after
// --slow K makes K members of the fan-out room stop reading after joining.
// --server-pid PID lets it read the server's CPU time and RSS from /proc.
#pragma once

#include "dialect.h"
#include "measure.h"
#include "tls_client.h"

#include <mbedtls/ssl.h>

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roost_bench {

// A set-up call failed: names it with errno on stderr and exits 1.
[[noreturn]] void die(const char* what);

struct Options {
    std::string scenario = "fanout";
    DialectKind dialect = DialectKind::roost;
    std::string host = "127.0.0.1";
    int port = 8080;
    int members = 10;
    int conns = 1000;
    int slow = 0;
    double rate = 0;     // messages/s; 0 = closed loop
    int window = 128;    // closed loop: messages the slowest member may lack
    double seconds = 5;
    int size = 100;      // message text bytes
    int server_pid = 0;
    bool tls = false;
    std::string label;
};

// --- one client connection --------------------------------------------------------
// engine_open: Socket.IO only, upgraded and waiting for the Engine.IO and
// Socket.IO opens before its hello.
enum class State : std::uint8_t { connecting, handshaking, upgrading, engine_open, hello_sent, joining, ready, closed };

struct Conn {
    int fd = -1;
    mbedtls_ssl_context* ssl = nullptr; // --tls
    State state = State::connecting;
    bool member = false;   // counts deliveries
    bool reading = true;   // false: a slow consumer that stopped reading
    std::string in;        // bytes of an unfinished frame/packet
    std::string out;       // bytes the kernel did not take yet
    std::uint64_t got = 0; // messages delivered to this connection
};

class LoadDriver {
public:
    explicit LoadDriver(const Options& o);
    LoadDriver(const LoadDriver&) = delete;
    LoadDriver& operator=(const LoadDriver&) = delete;

    // Runs the scenario; the exit status (0, 1: set-up failed, 2: the run
    // lost connections or deliveries, or an unknown scenario).
    int run();

    // What a dialect uses --------------------------------------------------------
    const Options& options() const { return o_; }
    Conn& conn(int id) { return conns_[static_cast<std::size_t>(id)]; }
    // Sends now, or queues what the kernel does not take (written when the
    // socket is writable again); a failed send closes the connection.
    void send_raw(int id, const char* p, std::size_t n);
    // Closes `id`; counted (and the first three printed) unless the run is
    // ending and the connection was ready.
    void close_conn(int id, const char* why);
    // The dialect's hello or join, and the state that waits for its answer.
    void hello(int id);
    void join(int id);
    // The server refused a hello or join with `answer`: counted, the first
    // three printed, the connection closed.
    void refused(int id, std::string_view answer);
    // A delivery whose text starts at its stamp ("T<us> ..."): counted for
    // members, its latency recorded, if it was sent during the measurement.
    void on_delivery(int id, std::string_view text_from_t);

private:
    // Connection set-up and I/O
    int open_conn(bool member);
    void want_write(int id, bool on);
    void flush(int id);
    void on_writable(int id);
    void handshake(int id);
    void on_readable(int id);
    void say(int id, std::uint64_t stamp);

    // The loop
    void loop_once(int timeout_ms) { loop_once_us(timeout_ms < 0 ? -1 : static_cast<std::int64_t>(timeout_ms) * 1000); }
    void loop_once_us(std::int64_t timeout_us);
    bool wait_state(State want, int from, int to);
    std::uint64_t slowest_member() const;

    // Scenarios and the result
    int fanout();
    int all2all();
    int idle();
    ProcSample end_measurement(std::uint64_t t0, double g0, const ProcSample& s0);
    void report(const char* extra_json);

    Options o_;
    int ep_ = -1;
    std::vector<Conn> conns_;
    TlsClient tls_;
    std::unique_ptr<Dialect> dialect_;
    std::uint64_t measure_from_ = 0; // deliveries stamped before this are not counted
    std::uint64_t sent_ = 0, delivered_ = 0, unexpected_closes_ = 0, refused_ = 0;
    bool stopping_ = false;
    Histogram lat_;
    char rx_[1 << 16];
    // Results.
    double wall_s_ = 0, server_cpu_s_ = 0, gen_cpu_s_ = 0;
    std::uint64_t rss_before_kb_ = 0, rss_after_kb_ = 0, rss_max_kb_ = 0;
};

} // namespace roost_bench
