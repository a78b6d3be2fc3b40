// libFuzzer target for what arrives over the MQTT bridge
// (platform/mqtt_bridge.cpp's PUBLISH handling, broker/bridge.cpp, the
// Decoder's bridged and device formats): topics and payloads delivered as
// lws delivers them, a payload in pieces, to a bridge attached to a broker
// without a connection.
//
// Input: one flags byte (bit 0: only the rooms kitchen and garden are
// bridged, else every room; bits 1-2: the topic prefix), then messages:
//   topic length (1 byte) | topic | payload length (2 bytes, LE) | payload |
//   pieces (1 byte: the payload arrives in 1 + pieces % 4 reads)
//
// Invariants: nothing crashes; each message is stored once (one room gains
// exactly one whole JSON `msg` of its seq), or dropped and counted once, or
// recognised as a duplicate or our own; nothing else changes; whatever the
// bridge would then publish is one JSON object.
#include "broker/broker.h"
#include "platform/settings.h"
#include "platform/mqtt_bridge.h"
#include "tests/fuzz/broker_snapshot.h"
#include "tests/fuzz/json_check.h"

#include <libwebsockets.h>

#include <cjson/cJSON.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using namespace roost;

void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_mqtt: broken invariant: %s\n%s\n", what, detail.substr(0, 2000).c_str());
    std::abort();
}
void check(bool ok, const char* what, const std::string& detail = {}) {
    if (!ok) fail(what, detail);
}

struct NoTransport final : Transport {
    void wake(SessionId) override {}
};

Settings settings(std::uint8_t flags) {
    Settings s;
    s.mqtt_url = "mqtt://127.0.0.1";
    s.mqtt_client_id = "roost-self";
    static const char* const prefixes[] = {"roost", "home/roost", "r", "a/b/c"};
    s.mqtt_prefix = prefixes[(flags >> 1) & 3];
    s.mqtt_rooms = flags & 1 ? "kitchen,garden" : "*";
    CoreLimits& l = s.limits;
    l.max_rooms = 4;
    l.ring_msgs = 8;
    l.ring_bytes = 16384;
    l.max_sessions = 2;
    l.max_nicks = 4;
    l.max_text = 256;
    l.max_frame = 1024;
    l.max_body = 1024;
    l.max_data_keys = 4;
    l.max_data_string = 32;
    return s;
}

std::uint64_t dropped(const MqttBridge::Stats& s) {
    return s.dropped_json + s.dropped_utf8 + s.dropped_size + s.dropped_topic + s.dropped_other;
}

void check_stored(const Room& r, std::uint64_t seq) {
    const char* data = nullptr;
    std::uint32_t len = 0;
    check(r.history->get(seq, data, len), "a stored message is held");
    const std::string msg(data, len);
    check(fuzz::json_object(msg), "a stored message is one JSON object", msg);
    cJSON* m = cJSON_ParseWithLength(data, len);
    const cJSON* room = cJSON_GetObjectItemCaseSensitive(m, "room");
    const cJSON* s = cJSON_GetObjectItemCaseSensitive(m, "seq");
    const bool ok = cJSON_IsString(room) && r.name.view() == room->valuestring && cJSON_IsNumber(s) &&
                    s->valuedouble == static_cast<double>(seq);
    cJSON_Delete(m);
    check(ok, "a stored message is the msg of its room and seq", msg);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Settings s = settings(data[0]);
    FakeClock clock(1800000000000ull);
    SplitMix random(3);
    NoTransport transport;
    Broker broker(s.limits, clock, random, transport);
    Decoder decoder(s.limits);
    MqttBridge bridge;
    std::string why;
    if (!bridge.configure(s, 1, why)) fail("the fuzz settings are refused", why);
    bridge.attach(broker, decoder);
    for (std::size_t i = 1; i < size;) {
        const std::size_t tlen = data[i++];
        if (i + tlen + 3 > size) break;
        std::string topic(reinterpret_cast<const char*>(data + i), tlen);
        i += tlen;
        const std::size_t plen = std::min<std::size_t>(static_cast<std::size_t>(data[i]) | static_cast<std::size_t>(data[i + 1]) << 8, size - i - 3);
        const std::string payload(reinterpret_cast<const char*>(data + i + 2), plen);
        const std::size_t pieces = 1 + data[i + 2 + plen] % 4;
        i += 3 + plen;

        const fuzz::BrokerState before = fuzz::snapshot(broker);
        const MqttBridge::Stats st0 = bridge.stats();
        const std::uint64_t dup0 = broker.stats().bridge_duplicates;
        lws_mqtt_publish_param_t pub{};
        pub.topic = topic.data();
        pub.topic_len = static_cast<std::uint16_t>(topic.size());
        pub.payload_len = static_cast<std::uint32_t>(payload.size());
        std::size_t at = 0;
        for (std::size_t k = 0; k < pieces; ++k) {
            const std::size_t end = k + 1 == pieces ? payload.size() : payload.size() * (k + 1) / pieces;
            pub.payload = payload.data() + at;
            pub.payload_pos = static_cast<std::uint32_t>(at);
            if (k + 1 < pieces && end == at) continue; // lws never delivers an empty piece before the last
            bridge.callback(nullptr, LWS_CALLBACK_MQTT_CLIENT_RX, &pub, end - at);
            at = end;
        }
        clock.advance(250);

        const fuzz::BrokerState after = fuzz::snapshot(broker);
        const MqttBridge::Stats& st1 = bridge.stats();
        const std::uint64_t stored = st1.received - st0.received, drops = dropped(st1) - dropped(st0),
                            dups = broker.stats().bridge_duplicates - dup0;
        check(stored + drops + dups <= 1, "one outcome per message",
              topic + " stored " + std::to_string(stored) + " dropped " + std::to_string(drops));
        std::size_t changed = 0;
        for (std::size_t r = 0; r < after.size(); ++r) {
            if (before[r] == after[r]) continue;
            ++changed;
            const bool same_history = before[r].used && before[r].epoch == after[r].epoch;
            check(after[r].head == (same_history ? before[r].head + 1 : 1), "a stored message adds one seq",
                  topic + " " + payload);
            check_stored(broker.room(static_cast<std::uint32_t>(r)), after[r].head);
        }
        check(changed == stored, "only a stored message changes what is stored", topic + " " + payload);
        Broker::BridgeOut out;
        for (int k = 0; k < 16 && broker.bridge_next(out); ++k) {
            check(fuzz::json_object(out.payload), "what the bridge publishes is one JSON object",
                  std::string(out.payload));
            broker.bridge_done(out.ri, out.seq);
        }
    }
    return 0;
}
