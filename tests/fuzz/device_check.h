// What the device store (broker/device_store.h) must hold whatever came in,
// for the fuzz targets that feed it (fuzz_devices through readings,
// fuzz_journal through devices.roost): each used device of a used room with
// a valid name and at most keys_per_device keys of finite numbers and
// well-formed UTF-8; each used series owned by the device key that names it;
// each bucket written either empty or in its step's slot with
// min <= avg <= max (DeviceStore::average_fits), all finite. And a dump of all of it, to compare stores.
#pragma once

#include "broker/broker.h"
#include "broker/device_store.h"
#include "broker/names.h"
#include "broker/utf8.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace roost::fuzz {

inline void device_fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "broken invariant (device store): %s\n%s\n", what, detail.substr(0, 2000).c_str());
    std::abort();
}

inline void check_device_store(const Broker& b) {
    const DeviceStore& st = b.devices();
    for (std::uint32_t i = 0; i < st.capacity(); ++i) {
        const Device& d = st.device(i);
        if (!d.used) continue;
        const std::string name(d.name, d.name_len);
        if (d.room >= b.room_slots() || !b.room(d.room).used) device_fail("a device of a used room", name);
        if (!nick_valid(name)) device_fail("a device's name is valid", name);
        if (d.nkeys > st.keys_per_device()) device_fail("at most keys_per_device keys", name);
        for (std::uint32_t k = 0; k < d.nkeys; ++k) {
            const DeviceKey& key = st.key(i, k);
            if (key.name_len == 0 || key.name_len > kNickMax || !utf8_valid(key.name, key.name_len) ||
                !std::isfinite(key.number) || key.str_len > st.max_string() ||
                !utf8_valid(st.string_value(i, k)) || static_cast<int>(key.type) > 3) {
                device_fail("a key's name and value", name);
            }
        }
    }
    for (std::uint32_t s = 0; s < st.series_capacity(); ++s) {
        const Series& x = st.series(s);
        if (!x.used) continue;
        if (x.device >= st.capacity() || !st.device(x.device).used || st.series_of(x.device, x.key) != s) {
            device_fail("a series is its device key's", std::to_string(s));
        }
        for (std::uint32_t a = 0; a < st.archives().n; ++a) {
            for (std::uint32_t k = 0; k < st.archives().a[a].count; ++k) {
                const Bucket& bk = st.bucket(s, a, k);
                if (bk.id == 0) continue;
                if (bk.id % st.archives().a[a].count != k || bk.count == 0 || !std::isfinite(bk.min) ||
                    !std::isfinite(bk.max) || !std::isfinite(bk.sum) || bk.min > bk.max ||
                    !DeviceStore::average_fits(bk)) {
                    device_fail("a bucket in its slot with min <= avg <= max, finite",
                                std::to_string(s) + "/" + std::to_string(a) + "/" + std::to_string(k));
                }
            }
        }
    }
}

// Everything the store holds, as text.
inline std::string dump_device_store(const DeviceStore& st) {
    std::ostringstream o;
    o.precision(17);
    for (std::uint32_t i = 0; i < st.capacity(); ++i) {
        const Device& d = st.device(i);
        if (!d.used) continue;
        o << "device " << i << " room " << d.room << " " << std::string(d.name, d.name_len) << " " << d.first_ms << " "
          << d.last_ms << " " << d.interval_ms << " " << d.readings << " " << d.stale << "\n";
        for (std::uint32_t k = 0; k < d.nkeys; ++k) {
            const DeviceKey& key = st.key(i, k);
            o << " " << std::string(key.name, key.name_len) << " " << static_cast<int>(key.type) << " " << key.number
              << " " << key.flag << " '" << st.string_value(i, k) << "' " << st.series_of(i, k) << "\n";
        }
    }
    for (std::uint32_t s = 0; s < st.series_capacity(); ++s) {
        const Series& x = st.series(s);
        if (!x.used) continue;
        o << "series " << s << " " << x.device << " " << x.key << "\n";
        for (std::uint32_t a = 0; a < st.archives().n; ++a) {
            for (std::uint32_t k = 0; k < st.archives().a[a].count; ++k) {
                const Bucket& b = st.bucket(s, a, k);
                if (b.id != 0) o << " " << a << "/" << k << " " << b.id << " " << b.min << " " << b.max << " " << b.sum << " " << b.count << "\n";
            }
        }
    }
    return o.str();
}

} // namespace roost::fuzz
