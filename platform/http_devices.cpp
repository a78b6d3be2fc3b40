// The devices of a room and their series over HTTP:
//   GET /api/rooms/{room}/devices                       every device, by name
//   GET /api/rooms/{room}/devices/{name}/series?key=K&range=2h|48h|30d
//                                               (or &from=MS&to=MS instead of range)
// read from the broker's DeviceStore (broker/device_store.h). An answer is
// made of pieces (the list's head, then one device each; a series' head,
// then up to kPointsPerPiece points each). When they all fit the request's
// pool buffer the answer goes whole with its Content-Length. Both can be
// larger than a buffer (max_devices devices with their values and watches;
// up to 100000 points), and then the pieces are written one per WRITEABLE
// without a Content-Length: the answer ends when the connection closes.
// Nothing is cut: the buffer holds the largest piece (device_piece_bytes).
#include "broker/bots.h"
#include "broker/json_writer.h"
#include "broker/names.h"
#include "platform/http.h"
#include "platform/http_rules.h"
#include "platform/runtime.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace roost {

namespace {

enum DeviceStream : std::uint8_t { kNoStream = 0, kDeviceList = 1, kSeries = 2 };

// Points of a series written per piece (each at most kPointBytes).
constexpr std::uint32_t kPointsPerPiece = 64;
// "[" ts "," 3 x (a float or null) "]," with room to spare.
constexpr std::size_t kPointBytes = 96;

// A float as the shortest text that reads back as the same float (20.5,
// 36.5, 9.1), or null when it is not finite (a reading beyond float range).
std::size_t put_float(char* out, float v) {
    if (!std::isfinite(v)) {
        std::memcpy(out, "null", 4);
        return 4;
    }
    int n = 0;
    for (int digits = 6; digits <= 9; ++digits) {
        n = std::snprintf(out, 32, "%.*g", digits, static_cast<double>(v));
        if (std::strtof(out, nullptr) == v) break;
    }
    for (int i = 0; i < n; ++i) {
        if (out[i] == ',') out[i] = '.'; // a locale's decimal comma
    }
    return static_cast<std::size_t>(n);
}

void write_watch(void* ctx, const DeviceWatch& dw) {
    JsonWriter& w = *static_cast<JsonWriter*>(ctx);
    w.begin_object();
    w.key("id");
    w.uint(dw.id);
    w.key("key");
    if (dw.op == WatchOp::silent) {
        w.null();
    } else {
        w.string(dw.key);
    }
    w.key("op");
    w.string(watch_op_text(dw.op));
    w.key("threshold");
    if (dw.op == WatchOp::silent) {
        w.null();
        w.key("silent_s");
        w.uint(dw.silent_ms / 1000);
    } else {
        w.number(dw.threshold);
    }
    w.key("alert");
    w.boolean(dw.alert);
    w.end_object();
}

// One device as its object in the list.
void write_device(Runtime& rt, const Room& r, std::uint32_t i, JsonWriter& w) {
    const DeviceStore& store = rt.broker.devices();
    const Device& d = store.device(i);
    const std::string_view name(d.name, d.name_len);
    const std::uint64_t now = rt.clock.now_ms();
    const std::uint64_t quiet = DeviceStore::quiet_after(d, std::uint64_t{rt.settings.limits.device_stale_s} * 1000);
    w.begin_object();
    w.key("name");
    w.string(name);
    w.key("last_seen");
    w.uint(d.last_ms);
    w.key("interval_ms");
    w.uint(d.interval_ms);
    w.key("stale");
    w.boolean(d.stale || (quiet != 0 && now > d.last_ms + quiet));
    w.key("values");
    w.begin_object();
    for (std::uint32_t k = 0; k < d.nkeys; ++k) {
        const DeviceKey& key = store.key(i, k);
        w.key(std::string_view(key.name, key.name_len));
        switch (key.type) {
        case ValueType::number: w.number(key.number); break;
        case ValueType::string: w.string(store.string_value(i, k)); break;
        case ValueType::boolean: w.boolean(key.flag); break;
        case ValueType::none: w.null(); break;
        }
    }
    w.end_object();
    w.key("watches");
    w.begin_array();
    device_watches(rt.broker, r.name.view(), name, write_watch, &w);
    w.end_array();
    w.end_object();
}

// The device of room slot `ri` whose name comes next after `after` (all
// of them when `after` is empty), or kNone.
std::uint32_t next_device(const DeviceStore& store, std::uint32_t ri, std::string_view after) {
    std::uint32_t best = kNone;
    for (std::uint32_t i = 0; i < store.capacity(); ++i) {
        const Device& d = store.device(i);
        if (!d.used || d.room != ri) continue;
        const std::string_view name(d.name, d.name_len);
        if (!after.empty() && nick_compare(name, after) <= 0) continue;
        if (best == kNone) {
            best = i;
        } else {
            const Device& b = store.device(best);
            if (nick_compare(name, std::string_view(b.name, b.name_len)) < 0) best = i;
        }
    }
    return best;
}

// A piece of an answer: its bytes, and whether it ends the answer.
struct Piece {
    std::size_t n = 0;
    bool last = false;
};

// The next piece of the device list into out[cap]: the head first, then
// one device per piece (the next by name after the one written last).
bool devices_piece(Runtime& rt, Conn& c, char* out, std::size_t cap, bool room_same, Piece& p) {
    const DeviceStore& store = rt.broker.devices();
    HttpScratch* s = scratch(rt, c); // `from`: the name written last
    if (s == nullptr) return false;
    std::size_t n = 0;
    const bool first = c.stream_device == 0;
    if (first) {
        std::memcpy(out, "{\"room\":", 8);
        JsonWriter w(out + 8, cap - 8);
        w.string(rt.broker.room(c.stream_room).name.view());
        n = 8 + w.size();
        std::memcpy(out + n, ",\"devices\":[", 12);
        n += 12;
        s->from[0] = '\0';
    }
    const std::uint32_t i = room_same ? next_device(store, c.stream_room, s->from) : kNone;
    if (i == kNone) {
        std::memcpy(out + n, "]}", 2);
        p = Piece{n + 2, true};
        return true;
    }
    if (!first) out[n++] = ',';
    JsonWriter w(out + n, cap - n);
    write_device(rt, rt.broker.room(c.stream_room), i, w);
    if (!w.ok()) return false; // cannot happen: a piece has room for the largest device (device_piece_bytes)
    n += w.size();
    const Device& d = store.device(i);
    std::memcpy(s->from, d.name, d.name_len);
    s->from[d.name_len] = '\0';
    c.stream_device++;
    p = Piece{n, false};
    return true;
}

// Up to kPointsPerPiece points of the series into `out`, after the `n`
// bytes already there.
bool series_piece(Runtime& rt, Conn& c, char* out, std::size_t n, bool room_same, Piece& p) {
    const DeviceStore& store = rt.broker.devices();
    const HttpScratch* s = scratch(rt, c); // `cid`: the key
    if (s == nullptr) return false;
    // The series may have left its device meanwhile (the room was recycled,
    // the device gave its slot up): what is left of the answer reads as gaps.
    const std::uint32_t sx = c.stream_series;
    bool same = room_same && store.series(sx).used && store.series(sx).device == c.stream_device;
    if (same) {
        const DeviceKey& key = store.key(c.stream_device, store.series(sx).key);
        same = std::string_view(key.name, key.name_len) == std::string_view(s->cid) && key.series == sx;
    }
    const Archive& a = store.archives().a[c.stream_archive];
    for (std::uint32_t k = 0; k < kPointsPerPiece && c.stream_next <= c.stream_last; ++k, ++c.stream_next) {
        const std::uint64_t id = c.stream_next;
        if (c.sent != 0) out[n++] = ','; // a point went out before this one
        c.sent = 1;
        n += static_cast<std::size_t>(std::snprintf(out + n, 32, "[%llu,", static_cast<unsigned long long>(id * a.step_ms)));
        const Bucket& b = store.bucket(sx, c.stream_archive, static_cast<std::uint32_t>(id % a.count));
        if (same && b.count > 0 && b.id == static_cast<std::uint32_t>(id)) {
            n += put_float(out + n, b.min);
            out[n++] = ',';
            n += put_float(out + n, b.sum / static_cast<float>(b.count));
            out[n++] = ',';
            n += put_float(out + n, b.max);
            out[n++] = ']';
        } else {
            std::memcpy(out + n, "null,null,null]", 15);
            n += 15;
        }
    }
    p.last = c.stream_next > c.stream_last;
    if (p.last) {
        std::memcpy(out + n, "]}", 2);
        n += 2;
    }
    p.n = n;
    return true;
}

// The answer whose state is set up in `c` (its head, `head` bytes, already
// in the pool buffer): whole with its Content-Length when it fits the
// buffer, as most do; else from the start again in pieces from WRITEABLE,
// without a length (the connection closes after it).
int answer(Runtime& rt, HttpExchange& ex, Conn& c, DeviceStream what, std::size_t head) {
    char* out = rt.pool.data(c.buf_slot - 1) + kHttpHeadroom;
    const std::size_t cap = rt.pool.size() - kHttpHeadroom;
    const std::size_t piece = static_cast<std::size_t>(device_piece_bytes(rt.settings.limits)) - kHttpHeadroom;
    const std::uint64_t first = c.stream_next;
    c.sent = 0;
    std::size_t used = head;
    while (cap - used >= piece) {
        Piece p;
        const bool ok = what == kDeviceList ? devices_piece(rt, c, out + used, cap - used, true, p)
                                            : series_piece(rt, c, out, used, true, p);
        if (!ok) return http_error(rt, ex, c, 503, "server_busy", "the answer could not be written");
        used = what == kDeviceList ? used + p.n : p.n;
        if (p.last) {
            c.stream = kNoStream;
            return respond(ex, c, 200, "application/json", out, used);
        }
    }
    c.stream_device = what == kDeviceList ? 0 : c.stream_device; // the list starts over
    c.stream_next = first;
    c.sent = 0;
    c.close_after = true;
    c.status = 200;
    c.body = nullptr;
    c.size = static_cast<std::uint32_t>(head); // the series' head waits for the first piece
    c.stream = c.head ? kNoStream : what; // HEAD: the headers alone
    ex.cancel_timer();
    const HttpField cache{"cache-control:", "no-store"}; // lws says connection: close (no length)
    if (!ex.send_headers(200, "application/json", kHttpStreamLength, &cache, 1)) return 1;
    ex.want_writable();
    return 0;
}

// The request's state for an answer about room slot `ri`.
bool prepare(Runtime& rt, Conn& c, std::uint32_t ri) {
    if (lend_buffer(rt, c) == nullptr) return false;
    c.stream_room = ri;
    std::memcpy(c.stream_epoch, rt.broker.room(ri).epoch, sizeof c.stream_epoch);
    return true;
}

bool same_room(Runtime& rt, const Conn& c) {
    const Room& r = rt.broker.room(c.stream_room);
    return r.used && std::memcmp(r.epoch, c.stream_epoch, kEpochLen) == 0;
}

// "2h", "48h", "30d" -> ms; 0 for anything else.
std::uint64_t range_ms(std::string_view r) {
    return r == "2h" ? 2 * 3600000ull : r == "48h" ? 48 * 3600000ull : r == "30d" ? 30 * 86400000ull : 0;
}

int serve_series(Runtime& rt, HttpExchange& ex, Conn& c, std::uint32_t ri, std::string_view name) {
    const DeviceStore& store = rt.broker.devices();
    const std::uint32_t di = nick_valid(name) ? store.find(ri, name) : kNone;
    if (di == kNone) return http_error(rt, ex, c, 404, "no_such_device", "no such device in this room");
    char key[kNickMax + 2];
    const int kn = ex.url_arg("key=", key, sizeof key);
    if (kn <= 0 || static_cast<std::size_t>(kn) > kNickMax) {
        return http_error(rt, ex, c, 400, "bad_request", "key: the name of one of the device's numeric keys (1-24 bytes)");
    }
    const std::string_view k(key, static_cast<std::size_t>(kn));
    std::uint32_t sx = kNoSeries;
    bool known = false;
    for (std::uint32_t j = 0; j < store.device(di).nkeys; ++j) {
        const DeviceKey& dk = store.key(di, j);
        if (std::string_view(dk.name, dk.name_len) == k) {
            known = true;
            sx = dk.series;
        }
    }
    if (!known) return http_error(rt, ex, c, 400, "bad_request", "key: the device never sent that key");
    if (sx == kNoSeries) return http_error(rt, ex, c, 400, "bad_request", "key: not a numeric key of the device");
    char rbuf[8];
    const int rn = ex.url_arg("range=", rbuf, sizeof rbuf);
    std::uint64_t from = 0, to = 0;
    bool has_from = false, has_to = false;
    if (!url_seq(ex, "from=", from, has_from) || !url_seq(ex, "to=", to, has_to)) {
        return http_error(rt, ex, c, 400, "bad_request", "from, to: milliseconds since the epoch (whole numbers)");
    }
    const std::uint64_t now = rt.clock.now_ms();
    std::uint64_t span = 0;
    if (rn != -1) {
        span = rn > 0 ? range_ms(std::string_view(rbuf, static_cast<std::size_t>(rn))) : 0;
        if (span == 0) return http_error(rt, ex, c, 400, "bad_request", "range: 2h, 48h or 30d");
        if (has_from || has_to) return http_error(rt, ex, c, 400, "bad_request", "range, or from and to: not both");
        from = now > span ? now - span + 1 : 0;
        to = now;
    } else if (!has_from || !has_to) {
        return http_error(rt, ex, c, 400, "bad_request", "range (2h, 48h, 30d), or from and to");
    } else if (from > to) {
        return http_error(rt, ex, c, 400, "bad_request", "from after to");
    }
    // The finest archive that still holds `from` (and spans the range).
    const std::uint64_t reach = (to > now ? to : now) - from;
    const std::uint32_t ai = store.archive_for(reach);
    const Archive& a = store.archives().a[ai];
    const std::uint64_t last = to / a.step_ms;
    // A range is its number of buckets up to now's; from/to every bucket
    // they touch.
    const std::uint64_t steps = span != 0 ? (span + a.step_ms - 1) / a.step_ms : 0;
    std::uint64_t first = span != 0 ? (last + 1 > steps ? last + 1 - steps : 0) : from / a.step_ms;
    if (last - first + 1 > a.count) first = last - a.count + 1; // older ones are not held
    HttpScratch* s = scratch(rt, c);
    if (s == nullptr) return respond_unserved(ex, c);
    std::memcpy(s->cid, k.data(), k.size());
    s->cid[k.size()] = '\0';
    if (!prepare(rt, c, ri)) return busy(rt, ex, c);
    c.stream_device = di;
    c.stream_series = sx;
    c.stream_archive = ai;
    c.stream_next = first;
    c.stream_last = last;
    char* out = rt.pool.data(c.buf_slot - 1) + kHttpHeadroom;
    const Device& d = store.device(di);
    JsonWriter w(out, rt.pool.size() - kHttpHeadroom);
    w.begin_object();
    w.key("room");
    w.string(rt.broker.room(ri).name.view());
    w.key("device");
    w.string(std::string_view(d.name, d.name_len));
    w.key("key");
    w.string(k);
    w.key("step_ms");
    w.uint(a.step_ms);
    w.key("from");
    w.uint(first * a.step_ms);
    w.key("to");
    w.uint((last + 1) * a.step_ms);
    w.key("points");
    w.begin_array();
    return answer(rt, ex, c, kSeries, w.size());
}

} // namespace

std::uint64_t device_piece_bytes(const CoreLimits& l) {
    // A device's object: its name and numbers; per key its name and a
    // string value, each escaped at most 6 bytes per byte (\u00XX); per
    // watch its fields and key. Or the series' head and a piece of points.
    const std::uint64_t device = 256 + std::uint64_t{l.keys_per_device} * (16 + 6 * (kNickMax + l.max_data_string)) +
                                 std::uint64_t{l.max_watches} * (128 + 6 * kNickMax);
    const std::uint64_t series = 512 + 6 * (kAnyRoomNameMax + 2 * kNickMax) + kPointsPerPiece * kPointBytes;
    return (device > series ? device : series) + kHttpHeadroom;
}

int serve_devices(Runtime& rt, HttpExchange& ex, Conn& c, std::uint32_t ri, std::string_view rest) {
    if (rest.empty()) {
        if (scratch(rt, c) == nullptr) return respond_unserved(ex, c);
        if (!prepare(rt, c, ri)) return busy(rt, ex, c);
        c.stream_device = 0; // devices written so far
        return answer(rt, ex, c, kDeviceList, 0);
    }
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash + 1) != "series") {
        return http_error(rt, ex, c, 404, "not_found", "no such path");
    }
    return serve_series(rt, ex, c, ri, rest.substr(0, slash));
}

int devices_writeable(Runtime& rt, HttpExchange& ex, Conn& c) {
    if (c.buf_slot == 0) return -1;
    char* out = rt.pool.data(c.buf_slot - 1) + kHttpHeadroom;
    const std::size_t cap = rt.pool.size() - kHttpHeadroom;
    const bool room_same = same_room(rt, c);
    Piece p;
    bool ok = false;
    if (c.stream == kDeviceList) {
        ok = devices_piece(rt, c, out, cap, room_same, p);
    } else {
        // A series: its head is in the buffer (c.size bytes) before the
        // first piece's points.
        const std::size_t head = c.size;
        c.size = 0;
        ok = series_piece(rt, c, out, head, room_same, p);
    }
    if (!ok || !ex.send_body(out, p.n, p.last)) return -1;
    if (!p.last) {
        ex.want_writable();
        return 0;
    }
    c.stream = kNoStream;
    c.status = 0;
    return end_response(rt, ex, c);
}

} // namespace roost
