// MQTT 3.1.1 at QoS 0, as mosquitto speaks it: CONNECT is the hello (its
// CONNACK the welcome), SUBSCRIBE to room/bench the join (SUBACK: joined),
// PUBLISH to room/bench the say; each PUBLISH the server sends is a
// delivery whose payload starts with the send stamp "T<us> ". No upgrade:
// the CONNECT goes as soon as the transport is up.
#include "load_driver.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace roost_bench {

namespace {

constexpr char kTopic[] = "room/bench";

// Writes MQTT's variable-length "remaining length" of `n` at `p`; returns
// its bytes (1-4).
std::size_t mqtt_len(char* p, std::size_t n) {
    std::size_t i = 0;
    do {
        std::uint8_t b = n & 0x7f;
        n >>= 7;
        if (n) b |= 0x80;
        p[i++] = static_cast<char>(b);
    } while (n);
    return i;
}

class MqttDialect final : public Dialect {
public:
    explicit MqttDialect(LoadDriver& driver) : driver_(driver) {}

    void start(int id) override { driver_.hello(id); }

    void send_hello(int id) override { // CONNECT, clean session, keep-alive 60 s, client id "b<id>"
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
        driver_.send_raw(id, pkt, h + b);
    }

    void send_join(int id) override { // SUBSCRIBE, packet id 1, QoS 0
        char pkt[32] = {static_cast<char>(0x82), 0, 0, 1, 0, static_cast<char>(sizeof kTopic - 1)};
        std::memcpy(pkt + 6, kTopic, sizeof kTopic - 1);
        std::size_t n = 6 + sizeof kTopic - 1;
        pkt[n++] = 0; // QoS 0
        pkt[1] = static_cast<char>(n - 2);
        driver_.send_raw(id, pkt, n);
    }

    void send_say(int id, std::string_view payload) override { // PUBLISH, QoS 0
        char pkt[4200];
        pkt[0] = 0x30;
        const std::size_t body = 2 + sizeof kTopic - 1 + payload.size();
        std::size_t h = 1 + mqtt_len(pkt + 1, body);
        pkt[h++] = 0;
        pkt[h++] = static_cast<char>(sizeof kTopic - 1);
        std::memcpy(pkt + h, kTopic, sizeof kTopic - 1);
        h += sizeof kTopic - 1;
        std::memcpy(pkt + h, payload.data(), payload.size());
        driver_.send_raw(id, pkt, h + payload.size());
    }

    std::size_t parse(int id, const char* p, std::size_t n) override {
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
            Conn& c = driver_.conn(id);
            if (type == 2) { // CONNACK
                c.state = State::joining;
                if (c.member) {
                    driver_.join(id);
                } else {
                    c.state = State::ready;
                }
            } else if (type == 9) { // SUBACK
                c.state = State::ready;
            } else if (type == 3 && len >= 2) { // PUBLISH (QoS 0)
                const std::size_t tl = (static_cast<std::size_t>(static_cast<std::uint8_t>(body[0])) << 8) |
                                       static_cast<std::uint8_t>(body[1]);
                if (2 + tl <= len) driver_.on_delivery(id, std::string_view(body + 2 + tl, len - 2 - tl));
            }
        }
        return at;
    }

private:
    LoadDriver& driver_;
};

} // namespace

std::unique_ptr<Dialect> make_mqtt_dialect(LoadDriver& driver) { return std::make_unique<MqttDialect>(driver); }

} // namespace roost_bench
