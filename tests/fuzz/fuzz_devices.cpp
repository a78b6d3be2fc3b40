// libFuzzer target for the device store's outside input: the body of a
// device's post (its `from` name and its `data` object) through the real
// seam the HTTP API uses (Decoder::decode_post, then Broker::post), into
// the DeviceStore (broker/device_store.cpp, broker/devices.cpp).
//
// Input: items separated by NUL bytes, each one control byte and a body:
//   ctl & 3    the room (sensors, garden, attic, sensors)
//   ctl >> 2   the clock moves on that many x 15 s first (archives wrap)
//   body       a POST body, e.g. {"from":"kitchen","data":{"t":21.5}}
// The store is small (3 devices, 3 keys each, 4 series, archives
// 1m:5m,5m:30m), so every table fills and every refusal is reached.
//
// Invariants, per item: a post the broker refuses changes nothing in the
// store or in any room's history; nothing is allocated while the broker
// takes a reading; a taken reading's values read back from the store
// exactly as the decoder handed them over (numbers, strings, booleans; the
// last of a repeated key), its numbers lie within their bucket's min and
// max; and the whole store keeps tests/fuzz/device_check.h's invariants.
#include "broker/broker.h"
#include "broker/decoder.h"
#include "tests/fuzz/broker_snapshot.h"
#include "tests/fuzz/device_check.h"
#include "tests/support/alloc_counter.h"

#include <cjson/cJSON.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace {

using namespace roost;

void check(bool ok, const char* what, const std::string& detail = {}) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_devices: broken invariant: %s\n%s\n", what, detail.substr(0, 2000).c_str());
    std::abort();
}

struct NoTransport final : Transport {
    void wake(SessionId) override {}
};

CoreLimits limits() {
    CoreLimits l;
    l.max_rooms = 3;
    l.ring_msgs = 16;
    l.ring_bytes = 4096;
    l.max_sessions = 2;
    l.max_nicks = 4;
    l.max_text = 200;
    l.max_frame = 1024;
    l.max_body = 1024;
    l.max_data_keys = 5;
    l.max_data_string = 16;
    l.max_cid = 16;
    l.msg_rate = 1000000;
    l.msg_burst = 1000000;
    l.max_devices = 3;
    l.keys_per_device = 3;
    l.max_series = 4;
    const char* why = nullptr;
    if (!parse_archives("1m:5m,5m:30m", l.archives, why)) std::abort();
    return l;
}

struct Node {
    CoreLimits lim = limits();
    FakeClock clock{1800000000000ull};
    SplitMix random{7};
    NoTransport transport;
    Broker broker{lim, clock, random, transport};
    Decoder decoder{lim};
};

// The store's value of `key` of device `d` equals the JSON value `v`.
bool same_value(const DeviceStore& st, std::uint32_t d, const cJSON* v, std::string& why) {
    const Device& dev = st.device(d);
    for (std::uint32_t k = 0; k < dev.nkeys; ++k) {
        const DeviceKey& key = st.key(d, k);
        if (std::string_view(key.name, key.name_len) != v->string) continue;
        if (cJSON_IsNumber(v)) {
            if (key.type != ValueType::number || key.number != v->valuedouble) break;
            return st.series_of(d, k) != kNoSeries;
        }
        if (cJSON_IsString(v)) return key.type == ValueType::string && st.string_value(d, k) == v->valuestring;
        if (cJSON_IsBool(v)) return key.type == ValueType::boolean && key.flag == cJSON_IsTrue(v);
        break;
    }
    why = std::string("key ") + v->string;
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const char* const kRooms[4] = {"sensors", "garden", "attic", "sensors"};
    Node n;
    const char* p = reinterpret_cast<const char*>(data);
    const char* end = p + size;
    while (p < end) {
        const char* stop = static_cast<const char*>(std::memchr(p, '\0', static_cast<std::size_t>(end - p)));
        if (stop == nullptr) stop = end;
        const auto ctl = static_cast<std::uint8_t>(*p);
        const std::string body(p + 1 < stop ? p + 1 : stop, stop);
        p = stop + 1;
        n.clock.advance(static_cast<std::uint64_t>(ctl >> 2) * 15000);
        const char* room = kRooms[ctl & 3];

        Command cmd;
        DecodeError err;
        if (n.decoder.decode_post(body.data(), body.size(), cmd, err) != Errc::ok) continue;
        const std::string from = cmd.nick.empty() ? std::string("dev") : std::string(cmd.nick);
        const std::string sent(cmd.data_json);

        const std::string store_before = fuzz::dump_device_store(n.broker.devices());
        const fuzz::BrokerState rooms_before = fuzz::snapshot(n.broker);
        PostResult r;
        const std::uint64_t allocs = roost_test::alloc_count();
        const Errc e = n.broker.post(room, from, MsgKind::device, cmd.text, cmd.data_json, {}, r);
        const std::uint64_t allocated = roost_test::alloc_count() - allocs;
        check(allocated == 0, "nothing is allocated while the broker takes a post", body);
        fuzz::check_device_store(n.broker);
        if (e != Errc::ok) {
            check(fuzz::dump_device_store(n.broker.devices()) == store_before, "a refused post changes no device",
                  body + " " + errc_code(e));
            check(fuzz::snapshot(n.broker) == rooms_before, "a refused post changes no history",
                  body + " " + errc_code(e));
            continue;
        }
        if (sent.empty()) continue;
        const Room* rm = n.broker.find_room(room);
        check(rm != nullptr, "the room of a taken post exists", room);
        const std::uint32_t ri = static_cast<std::uint32_t>(rm - &n.broker.room(0));
        const DeviceStore& st = n.broker.devices();
        const std::uint32_t d = st.find(ri, from);
        check(d != kNone, "a taken reading's device is in the store", body);
        check(st.device(d).last_ms == r.ts || st.device(d).last_ms > r.ts, "its last reading is this one", body);
        cJSON* obj = cJSON_ParseWithLength(sent.data(), sent.size());
        check(cJSON_IsObject(obj), "the decoder hands over an object", sent);
        for (const cJSON* v = obj->child; v != nullptr; v = v->next) {
            bool last = true; // a repeated key: the last one counts
            for (const cJSON* w = v->next; w != nullptr; w = w->next) last = last && std::strcmp(w->string, v->string) != 0;
            if (!last) continue;
            std::string why;
            check(same_value(st, d, v, why), "a taken value reads back as sent", sent + " " + why);
            if (!cJSON_IsNumber(v)) continue;
            for (std::uint32_t k = 0; k < st.device(d).nkeys; ++k) {
                const DeviceKey& key = st.key(d, k);
                if (std::string_view(key.name, key.name_len) != v->string) continue;
                const std::uint32_t s = st.series_of(d, k);
                for (std::uint32_t a = 0; a < st.archives().n; ++a) {
                    const Bucket& b = st.bucket(s, a, st.bucket_slot(a, r.ts));
                    // Buckets hold floats: a number past their range is kept at its edge.
                    const double top = std::numeric_limits<float>::max();
                    const double x = v->valuedouble > top ? top : v->valuedouble < -top ? -top : v->valuedouble;
                    check(b.id != 0 && b.count > 0 && double{b.min} <= static_cast<float>(x) &&
                              static_cast<float>(x) <= double{b.max},
                          "a taken number lies in its bucket", sent);
                }
            }
        }
        cJSON_Delete(obj);
    }
    return 0;
}
