// DeviceStore: the tables, taking a reading, the archives' buckets, and the
// parser of the compact `data` JSON. The contract is in device_store.h.
#include "broker/device_store.h"

#include "broker/tables.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace roost {

namespace {

constexpr double kFloatMax = 3.4028234663852886e38; // FLT_MAX

// "90s", "5m", "2h", "30d" -> ms; false for anything else.
bool parse_span(std::string_view s, std::uint64_t& ms) {
    if (s.size() < 2) return false;
    std::uint64_t n = 0;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9' || n > 100000000) return false;
        n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
    }
    const char u = s.back();
    const std::uint64_t unit = u == 's' ? 1000 : u == 'm' ? 60000 : u == 'h' ? 3600000 : u == 'd' ? 86400000 : 0;
    ms = n * unit;
    return unit != 0 && n > 0;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A JSON string at s[i] (after its opening quote), unescaped into out;
// i is left after the closing quote. Only the escapes JsonWriter writes
// and JSON allows; \u for code points below 0x800 (what JsonWriter uses
// for control characters) or any BMP code point as UTF-8.
bool read_string(std::string_view s, std::size_t& i, char* out, std::size_t cap, std::size_t& len) {
    len = 0;
    while (i < s.size()) {
        char c = s[i++];
        if (c == '"') return true;
        if (static_cast<unsigned char>(c) < 0x20) return false;
        if (c == '\\') {
            if (i >= s.size()) return false;
            const char e = s[i++];
            if (e == 'u') {
                if (i + 4 > s.size()) return false;
                int v = 0;
                for (int k = 0; k < 4; ++k) {
                    const int h = hex(s[i + static_cast<std::size_t>(k)]);
                    if (h < 0) return false;
                    v = v * 16 + h;
                }
                i += 4;
                if (v >= 0xD800 && v <= 0xDFFF) return false; // the decoder never lets surrogates through
                char buf[3];
                std::size_t n = 0;
                if (v < 0x80) {
                    buf[n++] = static_cast<char>(v);
                } else if (v < 0x800) {
                    buf[n++] = static_cast<char>(0xC0 | (v >> 6));
                    buf[n++] = static_cast<char>(0x80 | (v & 0x3F));
                } else {
                    buf[n++] = static_cast<char>(0xE0 | (v >> 12));
                    buf[n++] = static_cast<char>(0x80 | ((v >> 6) & 0x3F));
                    buf[n++] = static_cast<char>(0x80 | (v & 0x3F));
                }
                if (len + n > cap) return false;
                std::memcpy(out + len, buf, n);
                len += n;
                continue;
            }
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f'
                : e == '"' || e == '\\' || e == '/' ? e : '\0';
            if (c == '\0') return false;
        }
        if (len >= cap) return false;
        out[len++] = c;
    }
    return false;
}

// A byte a JSON number may hold (the scan's stop test).
bool number_char(char c) { return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'; }

// A JSON number (-?digits[.digits][e[+-]digits], no leading zeros): 1 with
// its value when it has at most 15 significant digits and a decimal
// exponent within 10^22 (the mantissa times or over an exact power of ten,
// one correctly rounded operation: Clinger's fast path, so it equals
// strtod's); 0 for another JSON number (strtod decides it); -1 for text that
// is no JSON number.
int exact_number(std::string_view t, double& out) {
    static constexpr double kPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                          1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    std::size_t i = 0;
    const bool neg = i < t.size() && t[i] == '-';
    if (neg) ++i;
    std::uint64_t mant = 0;
    int digits = 0, scale = 0;
    bool slow = false;
    auto digit = [&](char c) {
        if (mant != 0 || c != '0') ++digits;
        if (digits > 15) {
            slow = true;
        } else {
            mant = mant * 10 + static_cast<std::uint64_t>(c - '0');
        }
    };
    const std::size_t int_start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') digit(t[i++]);
    if (i == int_start || (t[int_start] == '0' && i - int_start > 1)) return -1;
    if (i < t.size() && t[i] == '.') {
        const std::size_t frac_start = ++i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
            digit(t[i++]);
            --scale;
        }
        if (i == frac_start) return -1;
    }
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        const bool eneg = i < t.size() && t[i] == '-';
        if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
        const std::size_t exp_start = i;
        int e = 0;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
            if (e < 10000) e = e * 10 + (t[i] - '0');
            ++i;
        }
        if (i == exp_start) return -1;
        scale += eneg ? -e : e;
    }
    if (i != t.size()) return -1;
    if (slow || scale < -22 || scale > 22) return 0;
    double v = static_cast<double>(mant); // exact: at most 15 digits
    v = scale < 0 ? v / kPow10[-scale] : v * kPow10[scale];
    out = neg ? -v : v;
    return 1;
}

} // namespace

std::uint32_t ArchiveSet::buckets() const {
    std::uint32_t total = 0; // at most kMaxArchives x 100000
    for (std::uint32_t k = 0; k < n; ++k) total += a[k].count;
    return total;
}

std::uint64_t ArchiveSet::span_ms() const {
    return n == 0 ? 0 : std::uint64_t{a[n - 1].step_ms} * a[n - 1].count;
}

bool parse_archives(std::string_view text, ArchiveSet& out, const char*& why) {
    out = ArchiveSet{};
    out.n = 0;
    why = "one to four STEP:SPAN, e.g. 1m:2h,15m:48h,1h:30d";
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        const std::size_t colon = item.find(':');
        std::uint64_t step = 0, span = 0;
        if (colon == std::string_view::npos || out.n == kMaxArchives || !parse_span(item.substr(0, colon), step) ||
            !parse_span(item.substr(colon + 1), span)) {
            return false;
        }
        if (step < 1000 || step > 0xffffffffu || span % step != 0 || span / step > 100000) {
            why = "each step at least 1s, each span a whole number of its steps, at most 100000 of them";
            return false;
        }
        if (out.n > 0 && (step <= out.a[out.n - 1].step_ms || step % out.a[out.n - 1].step_ms != 0)) {
            why = "steps ascending, each a multiple of the one before";
            return false;
        }
        out.a[out.n++] = Archive{static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(span / step)};
        if (comma == std::string_view::npos) return true;
        if (text.empty()) return false; // a trailing comma
    }
    return false;
}

bool parse_data(std::string_view s, char* scratch, std::size_t cap, DataValueFn fn, void* ctx) {
    std::size_t i = 0;
    if (s.size() < 2 || s[i++] != '{') return false;
    if (s[i] == '}') return i + 1 == s.size();
    char key[kNickMax + 1];
    for (;;) {
        std::size_t klen = 0, vlen = 0;
        if (i >= s.size() || s[i++] != '"' || !read_string(s, i, key, kNickMax, klen) || klen == 0) return false;
        if (i >= s.size() || s[i++] != ':' || i >= s.size()) return false;
        const std::string_view k(key, klen);
        const char c = s[i];
        if (c == '"') {
            ++i;
            if (!read_string(s, i, scratch, cap, vlen)) return false;
            fn(ctx, k, ValueType::string, 0, false, std::string_view(scratch, vlen));
        } else if (s.substr(i, 4) == "true" || s.substr(i, 5) == "false") {
            const bool v = c == 't';
            i += v ? 4 : 5;
            fn(ctx, k, ValueType::boolean, 0, v, {});
        } else {
            // A JSON number: the exact fast path when it has one, else
            // strtod over a bounded copy (the data is not NUL-terminated),
            // checked to end where the number does. Text that is no JSON
            // number (".5", "+1", "01") is refused.
            std::size_t j = i;
            while (j < s.size() && j - i < 32 && number_char(s[j])) ++j;
            double v = 0;
            const int exact = exact_number(s.substr(i, j - i), v);
            if (exact < 0) return false;
            if (exact == 0) {
                char num[33];
                std::memcpy(num, s.data() + i, j - i);
                num[j - i] = '\0';
                char* end = nullptr;
                v = std::strtod(num, &end);
                if (j == i || end != num + (j - i) || !std::isfinite(v)) return false;
            }
            i = j;
            fn(ctx, k, ValueType::number, v, false, {});
        }
        if (i >= s.size()) return false;
        if (s[i] == '}') return i + 1 == s.size();
        if (s[i++] != ',') return false;
    }
}

DeviceStore::DeviceStore(const CoreLimits& l)
    : archives_(l.archives), ndevices_(l.max_devices), nkeys_(l.keys_per_device), nseries_(l.max_series),
      max_string_(l.max_data_string), devices_(new Device[ndevices_ == 0 ? 1 : ndevices_]()),
      keys_(new DeviceKey[std::size_t{ndevices_} * nkeys_ + 1]()),
      // Default-initialized: resident only as devices and series use them.
      strings_(new char[std::size_t{ndevices_} * nkeys_ * max_string_ + 1]),
      series_(new Series[nseries_ == 0 ? 1 : nseries_]()),
      buckets_(static_cast<Bucket*>(std::calloc(std::size_t{nseries_} * l.archives.buckets() + 1, sizeof(Bucket)))) {
    if (buckets_ == nullptr) throw std::bad_alloc();
    std::uint32_t off = 0;
    for (std::uint32_t k = 0; k < archives_.n; ++k) {
        archive_offset_[k] = off;
        off += archives_.a[k].count;
    }
}

std::uint64_t DeviceStore::reserved_bytes(const CoreLimits& l) {
    return std::uint64_t{l.max_devices} * (sizeof(Device) + std::uint64_t{l.keys_per_device} *
                                                                   (sizeof(DeviceKey) + l.max_data_string)) +
           std::uint64_t{l.max_series} * (sizeof(Series) + std::uint64_t{l.archives.buckets()} * sizeof(Bucket));
}

std::uint32_t DeviceStore::find(std::uint32_t room, std::string_view name) const {
    for (std::uint32_t i = 0; i < ndevices_; ++i) {
        const Device& d = devices_[i];
        if (d.used && d.room == room && nick_equal(std::string_view(d.name, d.name_len), name)) return i;
    }
    return kNone;
}

std::uint32_t DeviceStore::find_free_device(std::uint64_t now) const {
    std::uint32_t quiet = kNone;
    for (std::uint32_t i = 0; i < ndevices_; ++i) {
        if (!devices_[i].used) return i;
        // A device quiet for longer than the archives reach gives its slot up.
        if (now > devices_[i].last_ms + archives_.span_ms() &&
            (quiet == kNone || devices_[i].last_ms < devices_[quiet].last_ms)) {
            quiet = i;
        }
    }
    return quiet;
}

std::uint32_t DeviceStore::free_series() const {
    for (std::uint32_t s = 0; s < nseries_; ++s) {
        if (!series_[s].used) return s;
    }
    return kNone;
}

std::uint64_t DeviceStore::quiet_after(const Device& d, std::uint64_t stale_ms) {
    if (stale_ms > 0) return stale_ms;
    return d.interval_ms == 0 ? 0 : std::uint64_t{d.interval_ms} * 3;
}

std::string_view DeviceStore::string_value(std::uint32_t device, std::uint32_t k) const {
    const DeviceKey& key = keys_[std::size_t{device} * nkeys_ + k];
    return {&strings_[(std::size_t{device} * nkeys_ + k) * max_string_], key.str_len};
}

namespace {

// check(): how many new keys and new series a reading needs.
struct Needs {
    const DeviceStore* store;
    std::uint32_t device; // kNone: a new device
    std::uint32_t new_keys = 0, new_series = 0;
    bool too_long = false;
};

void count_needs(void* ctx, std::string_view k, ValueType type, double, bool, std::string_view str) {
    Needs& n = *static_cast<Needs*>(ctx);
    if (str.size() > n.store->max_string()) n.too_long = true;
    std::uint32_t found = kNone;
    if (n.device != kNone) {
        const Device& d = n.store->device(n.device);
        for (std::uint32_t i = 0; i < d.nkeys && found == kNone; ++i) {
            const DeviceKey& key = n.store->key(n.device, i);
            if (std::string_view(key.name, key.name_len) == k) found = i;
        }
    }
    if (found == kNone) ++n.new_keys;
    if (type == ValueType::number && (found == kNone || n.store->series_of(n.device, found) == kNoSeries)) {
        ++n.new_series;
    }
}

} // namespace

Errc DeviceStore::check(std::uint32_t room, std::string_view name, std::uint64_t now, std::string_view data_json,
                        const char*& why) const {
    Needs n{this, find(room, name)};
    if (n.device == kNone && find_free_device(now) == kNone) {
        why = "the broker tracks as many devices as it may (max_devices)";
        return Errc::server_busy;
    }
    char scratch[1024 + 1];
    if (!data_json.empty() && !parse_data(data_json, scratch, sizeof scratch - 1, count_needs, &n)) {
        why = "data: not a flat object of numbers, strings and booleans";
        return Errc::bad_request;
    }
    if (n.too_long) {
        why = "data: a string longer than the broker keeps (max_data_string)";
        return Errc::bad_request;
    }
    const std::uint32_t have = n.device == kNone ? 0 : devices_[n.device].nkeys;
    if (have + n.new_keys > nkeys_) {
        why = "this device sends more keys than the broker keeps per device (keys_per_device)";
        return Errc::server_busy;
    }
    std::uint32_t free = 0;
    for (std::uint32_t s = 0; s < nseries_ && free < n.new_series; ++s) free += series_[s].used ? 0 : 1;
    if (free < n.new_series) {
        why = "the broker keeps as many numeric series as it may (max_series)";
        return Errc::server_busy;
    }
    return Errc::ok;
}

Bucket* DeviceStore::buckets_of(std::uint32_t s, std::uint32_t archive) {
    return &buckets_[std::size_t{s} * archives_.buckets() + archive_offset_[archive]];
}

const Bucket& DeviceStore::bucket(std::uint32_t s, std::uint32_t archive, std::uint32_t slot) const {
    return buckets_[std::size_t{s} * archives_.buckets() + archive_offset_[archive] + slot];
}

std::uint32_t DeviceStore::bucket_slot(std::uint32_t archive, std::uint64_t ts) const {
    const Archive& a = archives_.a[archive];
    return static_cast<std::uint32_t>((ts / a.step_ms) % a.count);
}

std::uint32_t DeviceStore::archive_for(std::uint64_t span_ms) const {
    for (std::uint32_t k = 0; k < archives_.n; ++k) {
        if (std::uint64_t{archives_.a[k].step_ms} * archives_.a[k].count >= span_ms) return k;
    }
    return archives_.n == 0 ? 0 : archives_.n - 1;
}

void DeviceStore::take(std::uint32_t room, std::string_view name, std::uint64_t ts, std::string_view data_json,
                       Taken& out) {
    out = Taken{};
    std::uint32_t i = find(room, name);
    if (i == kNone) {
        i = find_free_device(ts);
        if (i == kNone) return; // check() said no
        forget_device(i);
        Device& d = devices_[i];
        d = Device{};
        d.used = true;
        d.room = room;
        std::memcpy(d.name, name.data(), name.size());
        d.name_len = static_cast<std::uint8_t>(name.size());
        d.first_ms = ts;
        out.is_new = true;
    }
    Device& d = devices_[i];
    if (d.readings > 0 && ts >= d.last_ms) {
        // The usual interval: an average that follows a device's pace
        // within a few readings but is not thrown by one late post.
        const std::uint64_t gap = ts - d.last_ms;
        const std::uint64_t avg = d.interval_ms == 0 ? gap : (std::uint64_t{d.interval_ms} * 7 + gap) / 8;
        d.interval_ms = static_cast<std::uint32_t>(avg > 0xffffffffu ? 0xffffffffu : avg);
    }
    d.last_ms = ts > d.last_ms ? ts : d.last_ms;
    d.readings++;
    out.was_stale = d.stale;
    d.stale = false;
    out.device = i;
    if (data_json.empty()) return;
    struct Ctx {
        DeviceStore* self;
        std::uint32_t device;
        std::uint64_t ts;
        Taken* out;
    } ctx{this, i, ts, &out};
    char scratch[1024 + 1];
    (void)parse_data(
        data_json, scratch, sizeof scratch - 1,
        [](void* p, std::string_view k, ValueType type, double number, bool flag, std::string_view str) {
            Ctx& c = *static_cast<Ctx*>(p);
            c.self->set_value(c.device, k, type, number, flag, str, c.ts, *c.out);
        },
        &ctx);
}

void DeviceStore::set_value(std::uint32_t device, std::string_view k, ValueType type, double number, bool flag,
                            std::string_view str, std::uint64_t ts, Taken& out) {
    Device& d = devices_[device];
    std::uint32_t slot = kNone;
    for (std::uint32_t j = 0; j < d.nkeys && slot == kNone; ++j) {
        const DeviceKey& key = keys_[std::size_t{device} * nkeys_ + j];
        if (std::string_view(key.name, key.name_len) == k) slot = j;
    }
    if (slot == kNone) {
        if (d.nkeys >= nkeys_ || k.size() > kNickMax) return;
        slot = d.nkeys++;
        DeviceKey& fresh = keys_[std::size_t{device} * nkeys_ + slot];
        fresh = DeviceKey{};
        std::memcpy(fresh.name, k.data(), k.size());
        fresh.name_len = static_cast<std::uint8_t>(k.size());
        fresh.series = kNoSeries;
    }
    DeviceKey& key = keys_[std::size_t{device} * nkeys_ + slot];
    key.type = type;
    key.number = number;
    key.flag = flag;
    key.str_len = 0;
    if (type == ValueType::string && str.size() <= max_string_) {
        std::memcpy(&strings_[(std::size_t{device} * nkeys_ + slot) * max_string_], str.data(), str.size());
        key.str_len = static_cast<std::uint16_t>(str.size());
    }
    if (type != ValueType::number) return;
    key.series = series_of(device, slot);
    if (key.series == kNoSeries) {
        const std::uint32_t s = free_series();
        if (s == kNone) return; // check() said there was one
        series_[s] = Series{true, device, slot};
        std::memset(buckets_of(s, 0), 0, std::size_t{archives_.buckets()} * sizeof(Bucket));
        key.series = s;
    }
    // Buckets hold floats: a reading beyond their range is kept at its
    // edge (a double past it has no float), and a sum stays finite.
    const auto v = static_cast<float>(number > kFloatMax ? kFloatMax : number < -kFloatMax ? -kFloatMax : number);
    for (std::uint32_t a = 0; a < archives_.n; ++a) {
        const auto id = static_cast<std::uint32_t>(ts / archives_.a[a].step_ms);
        Bucket& b = buckets_of(key.series, a)[id % archives_.a[a].count];
        if (b.id != id) {
            b = Bucket{id, v, v, v, 1};
        } else {
            b.min = v < b.min ? v : b.min;
            b.max = v > b.max ? v : b.max;
            const double sum = double{b.sum} + double{v};
            b.sum = static_cast<float>(sum > kFloatMax ? kFloatMax : sum < -kFloatMax ? -kFloatMax : sum);
            b.count++;
        }
    }
    if (out.nseries < sizeof out.series / sizeof out.series[0]) out.series[out.nseries++] = key.series;
}

bool DeviceStore::average_fits(const Bucket& b) {
    if (b.count == 0 || std::fabs(double{b.sum}) >= kFloatMax) return true; // empty, or a saturated sum
    const double avg = double{b.sum} / b.count;
    const double slack = 0.01 * std::fmax(std::fabs(double{b.min}), std::fabs(double{b.max})) + 1e-6;
    return avg >= double{b.min} - slack && avg <= double{b.max} + slack;
}

std::uint32_t DeviceStore::series_of(std::uint32_t device, std::uint32_t k) const {
    const std::uint32_t s = keys_[std::size_t{device} * nkeys_ + k].series;
    if (s >= nseries_ || !series_[s].used || series_[s].device != device || series_[s].key != k) return kNoSeries;
    return s;
}

void DeviceStore::forget_device(std::uint32_t i) {
    Device& d = devices_[i];
    for (std::uint32_t j = 0; j < d.nkeys; ++j) {
        const std::uint32_t s = series_of(i, j);
        if (s != kNoSeries) series_[s] = Series{};
    }
    d = Device{};
}

void DeviceStore::forget_room(std::uint32_t room) {
    for (std::uint32_t i = 0; i < ndevices_; ++i) {
        if (devices_[i].used && devices_[i].room == room) forget_device(i);
    }
}

bool DeviceStore::restore_device(std::uint32_t i, const Device& d, const DeviceKey* keys, const char* strings) {
    if (i >= ndevices_ || d.nkeys > nkeys_ || d.name_len == 0 || d.name_len > kNickMax ||
        !nick_valid(std::string_view(d.name, d.name_len))) {
        return false;
    }
    for (std::uint32_t j = 0; j < d.nkeys; ++j) {
        if (keys[j].name_len == 0 || keys[j].name_len > kNickMax || keys[j].str_len > max_string_ ||
            !data_key_valid(std::string_view(keys[j].name, keys[j].name_len)) ||
            (keys[j].series != kNoSeries && keys[j].series >= nseries_)) {
            return false;
        }
    }
    devices_[i] = d;
    devices_[i].used = true;
    for (std::uint32_t j = 0; j < d.nkeys; ++j) {
        keys_[std::size_t{i} * nkeys_ + j] = keys[j];
        std::memcpy(&strings_[(std::size_t{i} * nkeys_ + j) * max_string_], strings + std::size_t{j} * max_string_,
                    keys[j].str_len);
    }
    return true;
}

bool DeviceStore::restore_series(std::uint32_t s, const Series& x) {
    if (s >= nseries_ || x.device >= ndevices_ || x.key >= nkeys_) return false;
    series_[s] = x;
    series_[s].used = true;
    return true;
}

bool DeviceStore::restore_bucket(std::uint32_t s, std::uint32_t archive, std::uint32_t slot, const Bucket& b) {
    if (s >= nseries_ || archive >= archives_.n || slot >= archives_.a[archive].count || b.id == 0 ||
        b.id % archives_.a[archive].count != slot || b.count == 0 || !std::isfinite(b.min) || !std::isfinite(b.max) ||
        !std::isfinite(b.sum) || b.min > b.max || !average_fits(b)) {
        return false;
    }
    buckets_of(s, archive)[slot] = b;
    return true;
}

} // namespace roost
