// roost-bench: a single-threaded epoll load generator for chat brokers.
//
// It speaks four dialects over plain TCP: Roost's JSON protocol over
// WebSocket (also spoken by the Node `ws` peer), Socket.IO 4 over WebSocket,
// MQTT 3.1.1 QoS 0 (mosquitto), and a do-nothing WebSocket server of its own
// ("serve") that answers the same JSON subset with one send() per delivery:
// the floor a broker without batching can reach.
//
// Scenarios (one per run; results as one JSON object on stdout):
//   fanout    one room of --members clients; a publisher sends --rate
//             messages/s (open loop; 0 = closed loop, as fast as --window
//             outstanding messages allow) for --seconds; delivery latency
//             from a send timestamp carried in each message
//   all2all   --members clients in one room each send one message; wait for
//             all N^2 deliveries; repeat for --seconds
//   idle      --conns connections held open after hello (MQTT: CONNECT);
//             the server's RSS before and after
// --slow K makes K members of the fan-out room stop reading after joining.
// --tls speaks TLS 1.2 (mbedTLS, the broker's own configuration; the
// certificate is not verified: this measures, it does not authenticate).
// --server-pid PID lets it read the server's CPU time and RSS from /proc.
#include "measure.h"
#include "tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace roost_bench;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "roost-bench: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

// --- options -------------------------------------------------------------------
enum class Dialect { roost, socketio, mqtt };

struct Options {
    std::string scenario = "fanout";
    Dialect dialect = Dialect::roost;
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

class Generator {
public:
    explicit Generator(const Options& o) : o_(o) {
        ep_ = epoll_create1(0);
        if (ep_ < 0) die("epoll_create1");
        if (o_.tls && !tls_.init()) {
            std::fprintf(stderr, "roost-bench: cannot set up TLS\n");
            std::exit(1);
        }
        std::snprintf(key_, sizeof key_, "dGhlIHNhbXBsZSBub25jZQ==");
        // A room of its own per run: a broker that keeps history (Roost)
        // would otherwise replay an earlier run's messages at join.
        std::snprintf(room_, sizeof room_, "bench%d", static_cast<int>(getpid() % 100000));
        mask_[0] = 0x37, mask_[1] = 0xfa, mask_[2] = 0x21, mask_[3] = 0x3d;
    }

    int run();

private:
    // Connection set-up -----------------------------------------------------
    int open_conn(bool member) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) die("socket");
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(o_.port));
        inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) die("connect");
        const int id = static_cast<int>(conns_.size());
        conns_.emplace_back();
        conns_.back().fd = fd;
        conns_.back().member = member;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u32 = static_cast<std::uint32_t>(id);
        if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
        return id;
    }

    void want_write(int id, bool on) {
        epoll_event ev{};
        ev.events = (conns_[id].reading ? EPOLLIN : 0u) | (on ? EPOLLOUT : 0u);
        ev.data.u32 = static_cast<std::uint32_t>(id);
        epoll_ctl(ep_, EPOLL_CTL_MOD, conns_[id].fd, &ev);
    }

    // send(), or a TLS write: bytes taken, or -1 with errno (EAGAIN: later).
    static ssize_t io_send(Conn& c, const char* p, std::size_t n) {
        if (c.ssl == nullptr) return ::send(c.fd, p, n, MSG_NOSIGNAL);
        const int w = mbedtls_ssl_write(c.ssl, reinterpret_cast<const unsigned char*>(p), n);
        if (w >= 0) return w;
        errno = w == MBEDTLS_ERR_SSL_WANT_WRITE || w == MBEDTLS_ERR_SSL_WANT_READ ? EAGAIN : EIO;
        return -1;
    }

    // recv(), or a TLS read: 0 at the end, -1 with errno.
    static ssize_t io_recv(Conn& c, char* p, std::size_t n) {
        if (c.ssl == nullptr) return ::recv(c.fd, p, n, 0);
        const int r = mbedtls_ssl_read(c.ssl, reinterpret_cast<unsigned char*>(p), n);
        if (r >= 0) return r;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return 0;
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            errno = EAGAIN;
            return -1;
        }
        char why[128];
        mbedtls_strerror(r, why, sizeof why);
        std::fprintf(stderr, "roost-bench: TLS read: %s (-0x%04x)\n", why, static_cast<unsigned>(-r));
        errno = EIO;
        return -1;
    }

    void send_raw(int id, const char* p, std::size_t n) {
        Conn& c = conns_[id];
        if (c.state == State::closed) return;
        if (c.out.empty()) {
            const ssize_t w = io_send(c, p, n);
            if (w == static_cast<ssize_t>(n)) return;
            if (w < 0 && errno != EAGAIN) {
                close_conn(id, "send");
                return;
            }
            const std::size_t done = w > 0 ? static_cast<std::size_t>(w) : 0;
            c.out.append(p + done, n - done);
            want_write(id, true);
            return;
        }
        c.out.append(p, n);
    }

    void flush(int id) {
        Conn& c = conns_[id];
        while (!c.out.empty()) {
            const ssize_t w = io_send(c, c.out.data(), c.out.size());
            if (w < 0) {
                if (errno != EAGAIN) close_conn(id, "send");
                return;
            }
            c.out.erase(0, static_cast<std::size_t>(w));
        }
        want_write(id, false);
    }

    void close_conn(int id, const char* why) {
        Conn& c = conns_[id];
        if (c.state == State::closed) return;
        if (c.state != State::ready || !stopping_) {
            ++unexpected_closes_;
            if (unexpected_closes_ <= 3) std::fprintf(stderr, "roost-bench: connection %d closed (%s)\n", id, why);
        }
        c.state = State::closed;
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        if (c.ssl != nullptr) {
            mbedtls_ssl_free(c.ssl);
            delete c.ssl;
            c.ssl = nullptr;
        }
    }

    // A masked client frame (text) with `payload`.
    void ws_send(int id, std::string_view payload, std::uint8_t opcode = 1) {
        char frame[16 + 4096];
        std::size_t h = 0;
        frame[h++] = static_cast<char>(0x80 | opcode);
        const std::size_t n = payload.size();
        if (n < 126) {
            frame[h++] = static_cast<char>(0x80 | n);
        } else {
            frame[h++] = static_cast<char>(0x80 | 126);
            frame[h++] = static_cast<char>(n >> 8);
            frame[h++] = static_cast<char>(n & 0xff);
        }
        std::memcpy(frame + h, mask_, 4);
        h += 4;
        if (n > sizeof frame - h) return;
        for (std::size_t i = 0; i < n; ++i) frame[h + i] = static_cast<char>(payload[i] ^ mask_[i & 3]);
        send_raw(id, frame, h + n);
    }

    // The dialect's hello/join/say -------------------------------------------
    void upgrade(int id) {
        const char* path = o_.dialect == Dialect::socketio ? "/socket.io/?EIO=4&transport=websocket" : "/ws";
        char req[512];
        const int n = std::snprintf(req, sizeof req,
                                    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                                    path, o_.host.c_str(), o_.port, key_);
        conns_[id].state = State::upgrading;
        send_raw(id, req, static_cast<std::size_t>(n));
    }

    void event(int id, const char* name, const char* json) {
        char buf[512];
        int n = 0;
        if (o_.dialect == Dialect::socketio) {
            n = std::snprintf(buf, sizeof buf, "42[\"%s\",%s]", name, json);
        } else {
            // {"type":"NAME", + the rest of json after its "{"
            n = std::snprintf(buf, sizeof buf, "{\"type\":\"%s\"%s%s", name, json[1] == '}' ? "" : ",", json + 1);
        }
        ws_send(id, std::string_view(buf, static_cast<std::size_t>(n)));
    }

    void hello(int id) {
        if (o_.dialect == Dialect::mqtt) {
            mqtt_connect(id);
        } else {
            char j[64];
            std::snprintf(j, sizeof j, "{\"nick\":\"b%d\"}", id);
            event(id, "hello", j);
        }
        conns_[id].state = State::hello_sent;
    }

    void join(int id) {
        if (o_.dialect == Dialect::mqtt) {
            mqtt_subscribe(id);
        } else {
            char j[64];
            std::snprintf(j, sizeof j, "{\"room\":\"%s\"}", room_);
            event(id, "join", j);
        }
        conns_[id].state = State::joining;
    }

    // The text carries the intended send time: "T<us> " then padding.
    void say(int id, std::uint64_t stamp) {
        char text[4096];
        int n = std::snprintf(text, sizeof text, "T%llu ", static_cast<unsigned long long>(stamp));
        while (n < o_.size && n < static_cast<int>(sizeof text) - 1) text[n++] = 'x';
        text[n] = '\0';
        if (o_.dialect == Dialect::mqtt) {
            mqtt_publish(id, std::string_view(text, static_cast<std::size_t>(n)));
        } else {
            char j[4200];
            std::snprintf(j, sizeof j, "{\"room\":\"%s\",\"text\":\"%s\"}", room_, text);
            event(id, "say", j);
        }
        ++sent_;
    }

    // MQTT 3.1.1 ------------------------------------------------------------------
    static std::size_t mqtt_len(char* p, std::size_t n) {
        std::size_t i = 0;
        do {
            std::uint8_t b = n & 0x7f;
            n >>= 7;
            if (n) b |= 0x80;
            p[i++] = static_cast<char>(b);
        } while (n);
        return i;
    }
    void mqtt_connect(int id) {
        char cid[32];
        const int cl = std::snprintf(cid, sizeof cid, "b%d", id);
        char body[64] = {0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60};
        std::size_t b = 10;
        body[b++] = 0;
        body[b++] = static_cast<char>(cl);
        std::memcpy(body + b, cid, static_cast<std::size_t>(cl));
        b += static_cast<std::size_t>(cl);
        char pkt[80];
        pkt[0] = 0x10;
        const std::size_t h = 1 + mqtt_len(pkt + 1, b);
        std::memcpy(pkt + h, body, b);
        send_raw(id, pkt, h + b);
    }
    void mqtt_subscribe(int id) {
        const char topic[] = "room/bench";
        char pkt[32] = {static_cast<char>(0x82), 0, 0, 1, 0, static_cast<char>(sizeof topic - 1)};
        std::memcpy(pkt + 6, topic, sizeof topic - 1);
        std::size_t n = 6 + sizeof topic - 1;
        pkt[n++] = 0; // QoS 0
        pkt[1] = static_cast<char>(n - 2);
        send_raw(id, pkt, n);
    }
    void mqtt_publish(int id, std::string_view payload) {
        const char topic[] = "room/bench";
        char pkt[4200];
        pkt[0] = 0x30;
        const std::size_t body = 2 + sizeof topic - 1 + payload.size();
        std::size_t h = 1 + mqtt_len(pkt + 1, body);
        pkt[h++] = 0;
        pkt[h++] = static_cast<char>(sizeof topic - 1);
        std::memcpy(pkt + h, topic, sizeof topic - 1);
        h += sizeof topic - 1;
        std::memcpy(pkt + h, payload.data(), payload.size());
        send_raw(id, pkt, h + payload.size());
    }

    // Receiving -----------------------------------------------------------------
    void on_readable(int id);
    void on_text(int id, std::string_view p);
    void on_delivery(int id, std::string_view text_from_t);
    std::size_t parse_ws(int id, const char* p, std::size_t n);
    std::size_t parse_mqtt(int id, const char* p, std::size_t n);

    void on_writable(int id) {
        Conn& c = conns_[id];
        if (c.state == State::connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                errno = err;
                close_conn(id, "connect");
                return;
            }
            want_write(id, false);
            if (o_.tls) {
                c.ssl = new mbedtls_ssl_context;
                mbedtls_ssl_init(c.ssl);
                if (mbedtls_ssl_setup(c.ssl, tls_.conf()) != 0) {
                    close_conn(id, "TLS setup");
                    return;
                }
                set_socket(c.ssl, c.fd);
                c.state = State::handshaking;
                handshake(id);
            } else if (o_.dialect == Dialect::mqtt) {
                hello(id);
            } else {
                upgrade(id);
            }
            return;
        }
        if (c.state == State::handshaking) {
            handshake(id);
            return;
        }
        flush(id);
    }

    void handshake(int id) {
        Conn& c = conns_[id];
        const int r = mbedtls_ssl_handshake(c.ssl);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            want_write(id, r == MBEDTLS_ERR_SSL_WANT_WRITE);
            return;
        }
        if (r != 0) {
            char why[128];
            mbedtls_strerror(r, why, sizeof why);
            close_conn(id, why);
            return;
        }
        want_write(id, false);
        if (o_.dialect == Dialect::mqtt) {
            hello(id);
        } else {
            upgrade(id);
        }
    }

    void loop_once(int timeout_ms) { loop_once_us(timeout_ms < 0 ? -1 : static_cast<std::int64_t>(timeout_ms) * 1000); }

    // Waits up to `timeout_us` (epoll_pwait2: open-loop pacing below a
    // millisecond must sleep, not spin, or the generator's CPU reads 100 %).
    void loop_once_us(std::int64_t timeout_us) {
        epoll_event evs[256];
        int n = 0;
        if (timeout_us < 0) {
            n = epoll_wait(ep_, evs, 256, -1);
        } else {
            timespec ts{};
            ts.tv_sec = static_cast<time_t>(timeout_us / 1000000);
            ts.tv_nsec = static_cast<long>((timeout_us % 1000000) * 1000);
            n = epoll_pwait2(ep_, evs, 256, &ts, nullptr);
            if (n < 0 && errno == ENOSYS) n = epoll_wait(ep_, evs, 256, static_cast<int>(timeout_us / 1000));
        }
        for (int i = 0; i < n; ++i) {
            const int id = static_cast<int>(evs[i].data.u32);
            if (conns_[id].state == State::closed) continue;
            if (evs[i].events & (EPOLLOUT | EPOLLERR)) on_writable(id);
            if (conns_[id].state != State::closed && (evs[i].events & (EPOLLIN | EPOLLHUP))) on_readable(id);
        }
    }

    // Waits until `count` connections reach `want` (or fails after 30 s).
    bool wait_state(State want, int from, int to) {
        const std::uint64_t deadline = now_us() + 30000000u;
        for (;;) {
            int ready = 0;
            for (int i = from; i < to; ++i) ready += conns_[static_cast<std::size_t>(i)].state == want ? 1 : 0;
            if (ready == to - from) return true;
            if (now_us() > deadline) {
                int by_state[8] = {};
                for (int i = from; i < to; ++i) ++by_state[static_cast<int>(conns_[static_cast<std::size_t>(i)].state)];
                std::fprintf(stderr,
                             "roost-bench: only %d of %d connections got there (connecting %d, TLS %d, upgrading %d, "
                             "engine %d, hello %d, joining %d, ready %d, closed %d)\n",
                             ready, to - from, by_state[0], by_state[1], by_state[2], by_state[3], by_state[4],
                             by_state[5], by_state[6], by_state[7]);
                for (int i = from; i < to; ++i) {
                    const Conn& c = conns_[static_cast<std::size_t>(i)];
                    if (c.state != want && c.state != State::closed) {
                        std::fprintf(stderr, "roost-bench: e.g. connection %d holds %zu unparsed bytes: %.80s\n", i,
                                     c.in.size(), c.in.c_str());
                        break;
                    }
                }
                return false;
            }
            loop_once(10);
        }
    }

    // Messages the slowest reading member has received.
    std::uint64_t slowest_member() const {
        std::uint64_t least = UINT64_MAX;
        for (const Conn& c : conns_) {
            if (c.member && c.reading && c.state == State::ready) least = std::min(least, c.got);
        }
        return least == UINT64_MAX || least > sent_ ? sent_ : least;
    }

    int fanout();
    int all2all();
    int idle();
    void report(const char* extra_json);

    Options o_;
    int ep_ = -1;
    std::vector<Conn> conns_;
    TlsClient tls_;
    char key_[32] = {};
    char room_[16] = {};
    std::uint64_t measure_from_ = 0; // deliveries stamped before this are not counted
    std::uint8_t mask_[4] = {};
    std::uint64_t sent_ = 0, delivered_ = 0, unexpected_closes_ = 0, refused_ = 0;
    bool stopping_ = false;
    Histogram lat_;
    char rx_[1 << 16];
    // Results.
    double wall_s_ = 0, server_cpu_s_ = 0, gen_cpu_s_ = 0;
    std::uint64_t rss_before_kb_ = 0, rss_after_kb_ = 0, rss_max_kb_ = 0;
};

void Generator::on_readable(int id) {
    Conn& c = conns_[id];
    if (c.state == State::handshaking) {
        handshake(id);
        return;
    }
    for (;;) {
        const ssize_t r = io_recv(c, rx_, sizeof rx_);
        if (r == 0) {
            close_conn(id, "closed by the server");
            return;
        }
        if (r < 0) {
            if (errno != EAGAIN) close_conn(id, "recv");
            return;
        }
        const char* p = rx_;
        std::size_t n = static_cast<std::size_t>(r);
        if (!c.in.empty()) { // finish what the last read left
            c.in.append(p, n);
            std::string buf;
            buf.swap(c.in);
            const std::size_t used = o_.dialect == Dialect::mqtt ? parse_mqtt(id, buf.data(), buf.size())
                                                                  : parse_ws(id, buf.data(), buf.size());
            if (conns_[id].state == State::closed) return;
            conns_[id].in.assign(buf.data() + used, buf.size() - used);
        } else {
            const std::size_t used = o_.dialect == Dialect::mqtt ? parse_mqtt(id, p, n) : parse_ws(id, p, n);
            if (conns_[id].state == State::closed) return;
            conns_[id].in.assign(p + used, n - used);
        }
        if (static_cast<std::size_t>(r) < sizeof rx_ &&
            (c.ssl == nullptr || mbedtls_ssl_get_bytes_avail(c.ssl) == 0)) {
            return;
        }
    }
}

// Returns the bytes consumed (whole frames and the HTTP response).
std::size_t Generator::parse_ws(int id, const char* p, std::size_t n) {
    std::size_t at = 0;
    if (conns_[id].state == State::upgrading) {
        const char* end = static_cast<const char*>(memmem(p, n, "\r\n\r\n", 4));
        if (end == nullptr) return 0;
        if (n < 12 || std::memcmp(p + 9, "101", 3) != 0) {
            close_conn(id, "upgrade refused");
            return n;
        }
        at = static_cast<std::size_t>(end - p) + 4;
        if (o_.dialect == Dialect::socketio) {
            conns_[id].state = State::engine_open;
        } else {
            hello(id);
        }
    }
    while (n - at >= 2) {
        const auto* u = reinterpret_cast<const std::uint8_t*>(p + at);
        const std::uint8_t op = u[0] & 0x0f;
        std::uint64_t len = u[1] & 0x7f;
        std::size_t h = 2;
        if (len == 126) {
            if (n - at < 4) break;
            len = (std::uint64_t{u[2]} << 8) | u[3];
            h = 4;
        } else if (len == 127) {
            if (n - at < 10) break;
            len = 0;
            for (int i = 0; i < 8; ++i) len = (len << 8) | u[2 + i];
            h = 10;
        }
        if (n - at < h + len) break;
        const std::string_view payload(p + at + h, static_cast<std::size_t>(len));
        at += h + static_cast<std::size_t>(len);
        if (op == 1 || op == 2) {
            on_text(id, payload);
        } else if (op == 9) {
            ws_send(id, payload, 10);
        } else if (op == 8) {
            char why[160];
            const unsigned code = payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8u) |
                                                            static_cast<unsigned char>(payload[1])
                                                      : 0u;
            std::snprintf(why, sizeof why, "close frame %u %.*s", code,
                          static_cast<int>(payload.size() > 2 ? std::min<std::size_t>(payload.size() - 2, 100) : 0),
                          payload.size() > 2 ? payload.data() + 2 : "");
            close_conn(id, why);
            return n;
        }
        if (conns_[id].state == State::closed) return n;
    }
    return at;
}

std::size_t Generator::parse_mqtt(int id, const char* p, std::size_t n) {
    std::size_t at = 0;
    while (n - at >= 2) {
        const auto* u = reinterpret_cast<const std::uint8_t*>(p + at);
        std::size_t len = 0, mul = 1, h = 1;
        for (;;) {
            if (at + h >= n) return at;
            const std::uint8_t b = u[h++];
            len += (b & 0x7fu) * mul;
            mul <<= 7;
            if ((b & 0x80) == 0) break;
        }
        if (n - at < h + len) break;
        const std::uint8_t type = u[0] >> 4;
        const char* body = p + at + h;
        at += h + len;
        Conn& c = conns_[id];
        if (type == 2) { // CONNACK
            c.state = State::joining;
            if (c.member) {
                join(id);
            } else {
                c.state = State::ready;
            }
        } else if (type == 9) { // SUBACK
            c.state = State::ready;
        } else if (type == 3 && len >= 2) { // PUBLISH (QoS 0)
            const std::size_t tl = (static_cast<std::size_t>(static_cast<std::uint8_t>(body[0])) << 8) |
                                   static_cast<std::uint8_t>(body[1]);
            if (2 + tl <= len) on_delivery(id, std::string_view(body + 2 + tl, len - 2 - tl));
        }
    }
    return at;
}

// One text frame: events of the dialect, possibly a Roost batch (an array).
void Generator::on_text(int id, std::string_view p) {
    Conn& c = conns_[id];
    if (o_.dialect == Dialect::socketio) {
        if (p == "2") {
            ws_send(id, "3");
            return;
        }
        if (c.state == State::engine_open && !p.empty() && p[0] == '0') {
            ws_send(id, "40");
            return;
        }
        if (p.substr(0, 2) == "40" && c.state == State::engine_open) {
            hello(id);
            return;
        }
    }
    if ((c.state == State::hello_sent || c.state == State::joining) && p.find("\"error\"") != std::string_view::npos) {
        ++refused_;
        if (refused_ <= 3) {
            std::fprintf(stderr, "roost-bench: connection %d refused: %.*s\n", id, static_cast<int>(std::min<std::size_t>(p.size(), 160)), p.data());
        }
        close_conn(id, "refused");
        return;
    }
    if (c.state == State::hello_sent && p.find("\"welcome\"") != std::string_view::npos) {
        if (c.member) {
            join(id);
        } else {
            c.state = State::ready;
        }
    }
    if (c.state == State::joining && p.find("\"joined\"") != std::string_view::npos) c.state = State::ready;
    // Every delivered message carries "text":"T<us> ...
    for (std::size_t at = 0;;) {
        const std::size_t k = p.find("\"text\":\"T", at);
        if (k == std::string_view::npos) break;
        on_delivery(id, p.substr(k + 8));
        at = k + 9;
    }
}

void Generator::on_delivery(int id, std::string_view t) {
    if (t.empty() || t[0] != 'T') return;
    std::uint64_t stamp = 0;
    for (std::size_t i = 1; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) stamp = stamp * 10 + static_cast<std::uint64_t>(t[i] - '0');
    Conn& c = conns_[id];
    if (!c.member || stamp < measure_from_) return;
    ++c.got;
    ++delivered_;
    const std::uint64_t now = now_us();
    lat_.add(now > stamp ? now - stamp : 0);
}

void Generator::report(const char* extra) {
    const double gen_util = wall_s_ > 0 ? gen_cpu_s_ / wall_s_ : 0;
    std::printf("{\"label\":\"%s\",\"scenario\":\"%s\",\"members\":%d,\"slow\":%d,\"rate\":%.0f,\"seconds\":%.2f,"
                "\"sent\":%llu,\"delivered\":%llu,\"deliveries_per_s\":%.0f,\"server_cpu_s\":%.3f,"
                "\"deliveries_per_server_cpu_s\":%.0f,\"p50_us\":%llu,\"p99_us\":%llu,\"p999_us\":%llu,"
                "\"generator_cpu_util\":%.2f,\"generator_saturated\":%s,\"unexpected_closes\":%llu,"
                "\"server_rss_before_kb\":%llu,\"server_rss_after_kb\":%llu,\"server_rss_max_kb\":%llu%s}\n",
                o_.label.c_str(), o_.scenario.c_str(), o_.members, o_.slow, o_.rate, wall_s_,
                static_cast<unsigned long long>(sent_), static_cast<unsigned long long>(delivered_),
                wall_s_ > 0 ? static_cast<double>(delivered_) / wall_s_ : 0, server_cpu_s_,
                server_cpu_s_ > 0 ? static_cast<double>(delivered_) / server_cpu_s_ : 0,
                static_cast<unsigned long long>(lat_.quantile(0.5)), static_cast<unsigned long long>(lat_.quantile(0.99)),
                static_cast<unsigned long long>(lat_.quantile(0.999)), gen_util, gen_util > 0.9 ? "true" : "false",
                static_cast<unsigned long long>(unexpected_closes_), static_cast<unsigned long long>(rss_before_kb_),
                static_cast<unsigned long long>(rss_after_kb_), static_cast<unsigned long long>(rss_max_kb_), extra);
    std::fflush(stdout);
}

int Generator::fanout() {
    // Members join one at a time (a burst of joins would flood every member
    // with presence events before it reads them).
    const int publisher = open_conn(true);
    if (!wait_state(State::ready, publisher, publisher + 1)) return 1;
    for (int i = 1; i < o_.members; ++i) {
        const int id = open_conn(true);
        if (!wait_state(State::ready, id, id + 1)) return 1;
    }
    // Drain the join chatter, then stop the slow consumers reading.
    for (int i = 0; i < 20; ++i) loop_once(10);
    for (int i = 0; i < o_.slow; ++i) {
        Conn& c = conns_[static_cast<std::size_t>(o_.members - 1 - i)];
        c.reading = false;
        c.member = false;
        want_write(o_.members - 1 - i, !c.out.empty());
    }
    const int counted = o_.members - o_.slow;
    const ProcSample s0 = read_proc(o_.server_pid);
    rss_before_kb_ = rss_max_kb_ = s0.rss_kb;
    const double g0 = own_cpu_s();
    const std::uint64_t t0 = now_us(), end = t0 + static_cast<std::uint64_t>(o_.seconds * 1e6);
    const int window = std::max(1, o_.window);
    delivered_ = 0;
    sent_ = 0;
    for (Conn& c : conns_) c.got = 0; // the backlog a join brought is not counted
    measure_from_ = t0;
    lat_ = Histogram();
    std::uint64_t next_rss = t0 + 200000;
    if (o_.rate > 0) {
        const double interval = 1e6 / o_.rate;
        std::uint64_t n = 0;
        for (std::uint64_t now = t0; now < end; now = now_us()) {
            while (t0 + static_cast<std::uint64_t>(static_cast<double>(n) * interval) <= now) {
                say(publisher, t0 + static_cast<std::uint64_t>(static_cast<double>(n) * interval));
                ++n;
            }
            const std::uint64_t due = t0 + static_cast<std::uint64_t>(static_cast<double>(n) * interval);
            loop_once_us(static_cast<std::int64_t>(due > now ? due - now : 0));
            if (now > next_rss) {
                rss_max_kb_ = std::max(rss_max_kb_, read_proc(o_.server_pid).rss_kb);
                next_rss = now + 200000;
            }
        }
    } else {
        for (std::uint64_t now = t0; now < end; now = now_us()) {
            // The window is what the slowest reading member still lacks, so
            // no member falls further behind than the window.
            while (sent_ - slowest_member() < static_cast<std::uint64_t>(window)) {
                say(publisher, now_us());
            }
            loop_once(1);
            if (now > next_rss) {
                rss_max_kb_ = std::max(rss_max_kb_, read_proc(o_.server_pid).rss_kb);
                next_rss = now + 200000;
            }
        }
    }
    const std::uint64_t t1 = now_us();
    const ProcSample s1 = read_proc(o_.server_pid);
    gen_cpu_s_ = own_cpu_s() - g0;
    wall_s_ = static_cast<double>(t1 - t0) / 1e6;
    server_cpu_s_ = s1.cpu_s - s0.cpu_s;
    rss_after_kb_ = s1.rss_kb;
    rss_max_kb_ = std::max(rss_max_kb_, s1.rss_kb);
    // Let in-flight deliveries land (counted in latency, not in the rate).
    const std::uint64_t counted_delivered = delivered_;
    for (int i = 0; i < 50; ++i) loop_once(10);
    char extra[160];
    std::snprintf(extra, sizeof extra, ",\"expected\":%llu,\"delivered_after_drain\":%llu,\"window\":%d",
                  static_cast<unsigned long long>(sent_ * static_cast<std::uint64_t>(counted)),
                  static_cast<unsigned long long>(delivered_), window);
    delivered_ = counted_delivered;
    stopping_ = true;
    report(extra);
    return unexpected_closes_ > static_cast<std::uint64_t>(o_.slow) ? 2 : 0;
}

int Generator::all2all() {
    for (int i = 0; i < o_.members; ++i) {
        const int id = open_conn(true);
        if (!wait_state(State::ready, id, id + 1)) return 1;
    }
    for (int i = 0; i < 20; ++i) loop_once(10);
    const ProcSample s0 = read_proc(o_.server_pid);
    rss_before_kb_ = rss_max_kb_ = s0.rss_kb;
    const double g0 = own_cpu_s();
    const std::uint64_t t0 = now_us(), end = t0 + static_cast<std::uint64_t>(o_.seconds * 1e6);
    delivered_ = 0;
    sent_ = 0;
    measure_from_ = t0;
    std::uint64_t iterations = 0;
    const auto per_round = static_cast<std::uint64_t>(o_.members) * static_cast<std::uint64_t>(o_.members);
    while (now_us() < end) {
        const std::uint64_t goal = delivered_ + per_round;
        for (int i = 0; i < o_.members; ++i) say(i, now_us());
        const std::uint64_t deadline = now_us() + 10000000u;
        while (delivered_ < goal && now_us() < deadline) loop_once(1);
        if (delivered_ < goal) {
            std::fprintf(stderr, "roost-bench: a round lost deliveries (%llu of %llu)\n",
                         static_cast<unsigned long long>(delivered_ + per_round - goal),
                         static_cast<unsigned long long>(per_round));
            return 2;
        }
        ++iterations;
    }
    const std::uint64_t t1 = now_us();
    const ProcSample s1 = read_proc(o_.server_pid);
    gen_cpu_s_ = own_cpu_s() - g0;
    wall_s_ = static_cast<double>(t1 - t0) / 1e6;
    server_cpu_s_ = s1.cpu_s - s0.cpu_s;
    rss_after_kb_ = s1.rss_kb;
    char extra[96];
    std::snprintf(extra, sizeof extra, ",\"iterations\":%llu,\"iterations_per_s\":%.1f",
                  static_cast<unsigned long long>(iterations), static_cast<double>(iterations) / wall_s_);
    stopping_ = true;
    report(extra);
    return 0;
}

int Generator::idle() {
    rss_before_kb_ = read_proc(o_.server_pid).rss_kb;
    const double g0 = own_cpu_s();
    const std::uint64_t t0 = now_us();
    constexpr int kStep = 200; // connect in steps so the listen backlog never overflows
    for (int from = 0; from < o_.conns; from += kStep) {
        const int to = std::min(o_.conns, from + kStep);
        for (int i = from; i < to; ++i) open_conn(false);
        if (!wait_state(State::ready, from, to)) return 1;
    }
    for (int i = 0; i < 100; ++i) loop_once(10); // let the server settle
    const ProcSample s1 = read_proc(o_.server_pid);
    wall_s_ = static_cast<double>(now_us() - t0) / 1e6;
    gen_cpu_s_ = own_cpu_s() - g0;
    rss_after_kb_ = rss_max_kb_ = s1.rss_kb;
    const double per_conn = o_.conns > 0 ? static_cast<double>(rss_after_kb_ - std::min(rss_after_kb_, rss_before_kb_)) * 1024.0 / o_.conns : 0;
    char extra[96];
    std::snprintf(extra, sizeof extra, ",\"conns\":%d,\"rss_per_conn_bytes\":%.0f", o_.conns, per_conn);
    stopping_ = true;
    report(extra);
    return unexpected_closes_ > 0 ? 2 : 0;
}

int Generator::run() {
    if (o_.scenario == "fanout") return fanout();
    if (o_.scenario == "all2all") return all2all();
    if (o_.scenario == "idle") return idle();
    std::fprintf(stderr, "roost-bench: unknown scenario '%s'\n", o_.scenario.c_str());
    return 2;
}

// --- the do-nothing server: one send() per delivery, no batching ---------------------
int serve(int port) {
    const int ls = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 1024) != 0) die("listen");
    socklen_t len = sizeof a;
    getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
    std::printf("listening on port %d\n", ntohs(a.sin_port));
    std::fflush(stdout);
    const int ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = ls;
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct Peer {
        bool open = false, upgraded = false, joined = false;
        std::string in;
    };
    std::vector<Peer> peers(1024);
    std::vector<int> members;
    char buf[1 << 16];
    std::uint64_t seq = 0;
    auto send_text = [](int fd, std::string_view s) {
        char h[4] = {static_cast<char>(0x81)};
        std::size_t hl = 2;
        if (s.size() < 126) {
            h[1] = static_cast<char>(s.size());
        } else {
            h[1] = 126;
            h[2] = static_cast<char>(s.size() >> 8);
            h[3] = static_cast<char>(s.size() & 0xff);
            hl = 4;
        }
        char frame[4200];
        std::memcpy(frame, h, hl);
        std::memcpy(frame + hl, s.data(), s.size());
        (void)::send(fd, frame, hl + s.size(), MSG_NOSIGNAL); // one send per delivery
    };
    for (;;) {
        epoll_event evs[128];
        const int n = epoll_wait(ep, evs, 128, -1);
        for (int i = 0; i < n; ++i) {
            const int fd = evs[i].data.fd;
            if (fd == ls) {
                const int c = accept4(ls, nullptr, nullptr, SOCK_NONBLOCK);
                if (c < 0) continue;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (static_cast<std::size_t>(c) >= peers.size()) peers.resize(static_cast<std::size_t>(c) * 2);
                peers[static_cast<std::size_t>(c)] = Peer{true, false, false, {}};
                epoll_event e{};
                e.events = EPOLLIN;
                e.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
                continue;
            }
            Peer& p = peers[static_cast<std::size_t>(fd)];
            const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                members.erase(std::remove(members.begin(), members.end(), fd), members.end());
                p = Peer{};
                ::close(fd);
                continue;
            }
            p.in.append(buf, static_cast<std::size_t>(r));
            if (!p.upgraded) {
                const std::size_t e = p.in.find("\r\n\r\n");
                if (e == std::string::npos) continue;
                static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
                (void)::send(fd, resp, sizeof resp - 1, MSG_NOSIGNAL);
                p.upgraded = true;
                p.in.erase(0, e + 4);
            }
            std::size_t at = 0;
            while (p.in.size() - at >= 6) {
                const auto* u = reinterpret_cast<const std::uint8_t*>(p.in.data() + at);
                std::size_t l = u[1] & 0x7f, h = 2;
                if (l == 126) {
                    if (p.in.size() - at < 8) break;
                    l = (std::size_t{u[2]} << 8) | u[3];
                    h = 4;
                }
                const bool masked = (u[1] & 0x80) != 0;
                if (p.in.size() - at < h + (masked ? 4 : 0) + l) break;
                std::string msg(p.in.data() + at + h + (masked ? 4 : 0), l);
                if (masked) {
                    for (std::size_t k = 0; k < l; ++k) msg[k] = static_cast<char>(msg[k] ^ u[h + (k & 3)]);
                }
                at += h + (masked ? 4 : 0) + l;
                if ((u[0] & 0x0f) == 8) break;
                if (msg.find("\"type\":\"hello\"") != std::string::npos) {
                    send_text(fd, "{\"type\":\"welcome\"}");
                } else if (msg.find("\"type\":\"join\"") != std::string::npos) {
                    if (!p.joined) members.push_back(fd);
                    p.joined = true;
                    send_text(fd, "{\"type\":\"joined\",\"room\":\"bench\"}");
                } else if (msg.find("\"type\":\"say\"") != std::string::npos) {
                    const std::size_t t = msg.find("\"text\":\"");
                    const std::size_t te = t == std::string::npos ? t : msg.find('"', t + 8);
                    if (te == std::string::npos) continue;
                    char out[4200];
                    const int k = std::snprintf(out, sizeof out,
                                                "{\"type\":\"msg\",\"room\":\"bench\",\"seq\":%llu,\"from\":\"b\","
                                                "\"kind\":\"chat\",\"text\":\"%.*s\"}",
                                                static_cast<unsigned long long>(++seq), static_cast<int>(te - t - 8),
                                                msg.data() + t + 8);
                    for (int m : members) send_text(m, std::string_view(out, static_cast<std::size_t>(k)));
                }
            }
            p.in.erase(0, at);
        }
    }
}

void usage() {
    std::fputs(
        "usage: roost-bench [options]            run a scenario against a server\n"
        "       roost-bench serve --port N        the do-nothing WebSocket server (one send per delivery)\n"
        "options:\n"
        "  --scenario fanout|all2all|idle  (fanout)\n"
        "  --dialect roost|socketio|mqtt   (roost; the Node ws peer speaks roost)\n"
        "  --host ADDR --port N            the server (127.0.0.1:8080)\n"
        "  --members N                     clients in the room, the publisher included (10)\n"
        "  --conns N                       idle connections (1000)\n"
        "  --slow K                        members that stop reading (0)\n"
        "  --rate R                        open loop: messages/s from the publisher; 0 = closed loop (0)\n"
        "  --window W                      closed loop: messages the slowest member may lack (128; below the ring)\n"
        "  --seconds S                     duration (5)\n"
        "  --size B                        message text bytes (100)\n"
        "  --server-pid PID                read the server's CPU time and RSS from /proc\n"
        "  --label TEXT                    copied into the JSON result\n"
        "  --tls 1                         TLS 1.2 (no certificate check)\n",
        stderr);
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) {
        const int port = argc >= 4 && std::strcmp(argv[2], "--port") == 0 ? std::atoi(argv[3]) : 0;
        return serve(port);
    }
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        const char* v = argv[++i];
        if (a == "--scenario") o.scenario = v;
        else if (a == "--dialect") {
            const std::string d = v;
            if (d == "roost") o.dialect = Dialect::roost;
            else if (d == "socketio") o.dialect = Dialect::socketio;
            else if (d == "mqtt") o.dialect = Dialect::mqtt;
            else {
                usage();
                return 2;
            }
        } else if (a == "--host") o.host = v;
        else if (a == "--port") o.port = std::atoi(v);
        else if (a == "--members") o.members = std::max(1, std::atoi(v));
        else if (a == "--conns") o.conns = std::max(1, std::atoi(v));
        else if (a == "--slow") o.slow = std::max(0, std::atoi(v));
        else if (a == "--rate") o.rate = std::atof(v);
        else if (a == "--window") o.window = std::atoi(v);
        else if (a == "--seconds") o.seconds = std::atof(v);
        else if (a == "--size") o.size = std::clamp(std::atoi(v), 16, 4000);
        else if (a == "--server-pid") o.server_pid = std::atoi(v);
        else if (a == "--label") o.label = v;
        else if (a == "--tls") o.tls = std::atoi(v) != 0;
        else {
            usage();
            return 2;
        }
    }
    if (o.slow >= o.members) o.slow = o.members - 1;
    Generator g(o);
    return g.run();
}
