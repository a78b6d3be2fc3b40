// The load driver (load_driver.h): connections on one epoll loop, TLS
// under them with --tls, the scenarios and their JSON result.
#include "load_driver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/error.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace roost_bench {

void die(const char* what) {
    std::fprintf(stderr, "roost-bench: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

namespace {

std::unique_ptr<Dialect> make_dialect(DialectKind kind, LoadDriver& driver) {
    switch (kind) {
    case DialectKind::socketio: return make_socketio_dialect(driver);
    case DialectKind::mqtt: return make_mqtt_dialect(driver);
    case DialectKind::roost: break;
    }
    return make_roost_dialect(driver);
}

// send(), or a TLS write: bytes taken, or -1 with errno (EAGAIN: later).
ssize_t io_send(Conn& c, const char* p, std::size_t n) {
    if (c.ssl == nullptr) return ::send(c.fd, p, n, MSG_NOSIGNAL);
    const int w = mbedtls_ssl_write(c.ssl, reinterpret_cast<const unsigned char*>(p), n);
    if (w >= 0) return w;
    errno = w == MBEDTLS_ERR_SSL_WANT_WRITE || w == MBEDTLS_ERR_SSL_WANT_READ ? EAGAIN : EIO;
    return -1;
}

// recv(), or a TLS read: 0 at the end, -1 with errno.
ssize_t io_recv(Conn& c, char* p, std::size_t n) {
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

} // namespace

LoadDriver::LoadDriver(const Options& o) : o_(o) {
    ep_ = epoll_create1(0);
    if (ep_ < 0) die("epoll_create1");
    if (o_.tls && !tls_.init()) {
        std::fprintf(stderr, "roost-bench: cannot set up TLS\n");
        std::exit(1);
    }
    dialect_ = make_dialect(o_.dialect, *this);
}

int LoadDriver::open_conn(bool member) {
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

void LoadDriver::want_write(int id, bool on) {
    epoll_event ev{};
    ev.events = (conns_[id].reading ? EPOLLIN : 0u) | (on ? EPOLLOUT : 0u);
    ev.data.u32 = static_cast<std::uint32_t>(id);
    epoll_ctl(ep_, EPOLL_CTL_MOD, conns_[id].fd, &ev);
}

void LoadDriver::send_raw(int id, const char* p, std::size_t n) {
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

void LoadDriver::flush(int id) {
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

void LoadDriver::close_conn(int id, const char* why) {
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

void LoadDriver::hello(int id) {
    dialect_->send_hello(id);
    conns_[id].state = State::hello_sent;
}

void LoadDriver::join(int id) {
    dialect_->send_join(id);
    conns_[id].state = State::joining;
}

// The text carries the intended send time: "T<us> " then padding.
void LoadDriver::say(int id, std::uint64_t stamp) {
    char text[4096];
    int n = std::snprintf(text, sizeof text, "T%llu ", static_cast<unsigned long long>(stamp));
    while (n < o_.size && n < static_cast<int>(sizeof text) - 1) text[n++] = 'x';
    text[n] = '\0';
    dialect_->send_say(id, std::string_view(text, static_cast<std::size_t>(n)));
    ++sent_;
}

void LoadDriver::on_writable(int id) {
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
        } else {
            dialect_->start(id);
        }
        return;
    }
    if (c.state == State::handshaking) {
        handshake(id);
        return;
    }
    flush(id);
}

void LoadDriver::handshake(int id) {
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
    dialect_->start(id);
}

// Waits up to `timeout_us` (epoll_pwait2: open-loop pacing below a
// millisecond must sleep, not spin, or the generator's CPU reads 100 %).
void LoadDriver::loop_once_us(std::int64_t timeout_us) {
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
bool LoadDriver::wait_state(State want, int from, int to) {
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
std::uint64_t LoadDriver::slowest_member() const {
    std::uint64_t least = UINT64_MAX;
    for (const Conn& c : conns_) {
        if (c.member && c.reading && c.state == State::ready) least = std::min(least, c.got);
    }
    return least == UINT64_MAX || least > sent_ ? sent_ : least;
}

void LoadDriver::on_readable(int id) {
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
            const std::size_t used = dialect_->parse(id, buf.data(), buf.size());
            if (conns_[id].state == State::closed) return;
            conns_[id].in.assign(buf.data() + used, buf.size() - used);
        } else {
            const std::size_t used = dialect_->parse(id, p, n);
            if (conns_[id].state == State::closed) return;
            conns_[id].in.assign(p + used, n - used);
        }
        if (static_cast<std::size_t>(r) < sizeof rx_ &&
            (c.ssl == nullptr || mbedtls_ssl_get_bytes_avail(c.ssl) == 0)) {
            return;
        }
    }
}

void LoadDriver::refused(int id, std::string_view answer) {
    ++refused_;
    if (refused_ <= 3) {
        std::fprintf(stderr, "roost-bench: connection %d refused: %.*s\n", id, static_cast<int>(std::min<std::size_t>(answer.size(), 160)), answer.data());
    }
    close_conn(id, "refused");
}

void LoadDriver::on_delivery(int id, std::string_view t) {
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

void LoadDriver::report(const char* extra) {
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

// The measured span ends: wall time, the server's CPU time and RSS, the
// generator's own CPU time since `t0`, `g0` and `s0`. Returns the server's
// sample at the end.
ProcSample LoadDriver::end_measurement(std::uint64_t t0, double g0, const ProcSample& s0) {
    const std::uint64_t t1 = now_us();
    const ProcSample s1 = read_proc(o_.server_pid);
    gen_cpu_s_ = own_cpu_s() - g0;
    wall_s_ = static_cast<double>(t1 - t0) / 1e6;
    server_cpu_s_ = s1.cpu_s - s0.cpu_s;
    rss_after_kb_ = s1.rss_kb;
    return s1;
}

int LoadDriver::fanout() {
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
    const ProcSample s1 = end_measurement(t0, g0, s0);
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

int LoadDriver::all2all() {
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
    end_measurement(t0, g0, s0);
    char extra[96];
    std::snprintf(extra, sizeof extra, ",\"iterations\":%llu,\"iterations_per_s\":%.1f",
                  static_cast<unsigned long long>(iterations), static_cast<double>(iterations) / wall_s_);
    stopping_ = true;
    report(extra);
    return 0;
}

int LoadDriver::idle() {
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

int LoadDriver::run() {
    if (o_.scenario == "fanout") return fanout();
    if (o_.scenario == "all2all") return all2all();
    if (o_.scenario == "idle") return idle();
    std::fprintf(stderr, "roost-bench: unknown scenario '%s'\n", o_.scenario.c_str());
    return 2;
}

} // namespace roost_bench
