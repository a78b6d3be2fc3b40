// The WebSocket client framing and the JSON chat events (ws_dialect.h).
#include "ws_dialect.h"

#include "load_driver.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace roost_bench {

WsDialect::WsDialect(LoadDriver& driver) : driver_(driver) {
    std::snprintf(key_, sizeof key_, "dGhlIHNhbXBsZSBub25jZQ==");
    // A room of its own per run: a broker that keeps history (Roost)
    // would otherwise replay an earlier run's messages at join.
    std::snprintf(room_, sizeof room_, "bench%d", static_cast<int>(getpid() % 100000));
    mask_[0] = 0x37, mask_[1] = 0xfa, mask_[2] = 0x21, mask_[3] = 0x3d;
}

void WsDialect::start(int id) {
    const Options& o = driver_.options();
    char req[512];
    const int n = std::snprintf(req, sizeof req,
                                "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                                path(), o.host.c_str(), o.port, key_);
    driver_.conn(id).state = State::upgrading;
    driver_.send_raw(id, req, static_cast<std::size_t>(n));
}

void WsDialect::send_hello(int id) {
    char j[64];
    std::snprintf(j, sizeof j, "{\"nick\":\"b%d\"}", id);
    event(id, "hello", j);
}

void WsDialect::send_join(int id) {
    char j[64];
    std::snprintf(j, sizeof j, "{\"room\":\"%s\"}", room_);
    event(id, "join", j);
}

void WsDialect::send_say(int id, std::string_view text) {
    char j[4200];
    std::snprintf(j, sizeof j, "{\"room\":\"%s\",\"text\":\"%.*s\"}", room_, static_cast<int>(text.size()),
                  text.data());
    event(id, "say", j);
}

void WsDialect::ws_send(int id, std::string_view payload, std::uint8_t opcode) {
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
    driver_.send_raw(id, frame, h + n);
}

// Returns the bytes consumed (whole frames and the HTTP response).
std::size_t WsDialect::parse(int id, const char* p, std::size_t n) {
    std::size_t at = 0;
    if (driver_.conn(id).state == State::upgrading) {
        const char* end = static_cast<const char*>(memmem(p, n, "\r\n\r\n", 4));
        if (end == nullptr) return 0;
        if (n < 12 || std::memcmp(p + 9, "101", 3) != 0) {
            driver_.close_conn(id, "upgrade refused");
            return n;
        }
        at = static_cast<std::size_t>(end - p) + 4;
        upgraded(id);
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
            driver_.close_conn(id, why);
            return n;
        }
        if (driver_.conn(id).state == State::closed) return n;
    }
    return at;
}

void WsDialect::on_events(int id, std::string_view p) {
    Conn& c = driver_.conn(id);
    if ((c.state == State::hello_sent || c.state == State::joining) && p.find("\"error\"") != std::string_view::npos) {
        driver_.refused(id, p);
        return;
    }
    if (c.state == State::hello_sent && p.find("\"welcome\"") != std::string_view::npos) {
        if (c.member) {
            driver_.join(id);
        } else {
            c.state = State::ready;
        }
    }
    if (c.state == State::joining && p.find("\"joined\"") != std::string_view::npos) c.state = State::ready;
    // Every delivered message carries "text":"T<us> ...
    for (std::size_t at = 0;;) {
        const std::size_t k = p.find("\"text\":\"T", at);
        if (k == std::string_view::npos) break;
        driver_.on_delivery(id, p.substr(k + 8));
        at = k + 9;
    }
}

} // namespace roost_bench
