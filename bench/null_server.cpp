// `roost-bench serve`: a do-nothing WebSocket server that answers Roost's
// JSON subset (hello -> welcome, join -> joined, say -> msg to every member)
// with one send() per delivery and nothing else: no history, no batching,
// no checks. The floor a broker without batching can reach; compare.py
// runs it as "null-server".
#include "null_server.h"

#include "load_driver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace roost_bench {

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

} // namespace roost_bench
