// The broker's side of device monitoring: a device's message is checked
// against the store's tables before it is stored, taken into the store
// (latest values, series) after, kept by the journal, and a device that goes
// quiet or comes back is said in its room, once each. The tables themselves
// are broker/device_store.h's.
#include "broker/broker.h"

#include "broker/bots.h"
#include "broker/commands.h"
#include "broker/json_writer.h"
#include "broker/utf8.h"

#include <cmath>
#include <cstring>
#include <memory>

namespace roost {

namespace {

// The fixed record of one device as the journal keeps it:
//   used u8 | stale u8 | name_len u8 | pad u8 | room u32 | epoch[8] | name[24]
//   | first_ms u64 | last_ms u64 | interval u32 | readings u32 | nkeys u32 | pad u32
//   then per key slot: name_len u8 | name[24] | type u8 | flag u8 | pad u8
//   | str_len u16 | series u32 | number f64 | string[max_data_string]
constexpr std::size_t kDeviceHead = 80;
constexpr std::size_t kKeyHead = 44;

void put16(char* p, std::uint16_t v) { std::memcpy(p, &v, 2); }
void put32(char* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
void put64(char* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
std::uint16_t get16(const char* p) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
std::uint32_t get32(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
std::uint64_t get64(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// "14:02" in the broker's time zone.
void clock_text(Broker& b, std::uint64_t ms, char out[6]) {
    const std::int64_t local = static_cast<std::int64_t>(ms / 1000) + std::int64_t{BrokerForCommands::utc_offset_min(b, ms)} * 60;
    const std::int64_t day = ((local % 86400) + 86400) % 86400;
    out[0] = static_cast<char>('0' + day / 36000);
    out[1] = static_cast<char>('0' + day / 3600 % 10);
    out[2] = ':';
    out[3] = static_cast<char>('0' + day % 3600 / 600);
    out[4] = static_cast<char>('0' + day % 600 / 60);
    out[5] = '\0';
}

} // namespace

std::size_t Broker::device_record_size(const CoreLimits& l) {
    return kDeviceHead + std::size_t{l.keys_per_device} * (kKeyHead + l.max_data_string);
}

Errc Broker::check_reading(std::uint32_t ri, std::string_view from, std::string_view data_json, const char*& why) const {
    return devices_.check(ri, from, clock_.now_ms(), data_json, why);
}

std::uint32_t Broker::took_reading(std::uint32_t ri, std::string_view from, std::uint64_t ts, std::string_view data_json) {
    DeviceStore::Taken t;
    devices_.take(ri, from, ts, data_json, t);
    if (journal_ != nullptr) {
        save_device(t.device);
        const ArchiveSet& arch = devices_.archives();
        for (std::uint32_t k = 0; k < t.nseries; ++k) {
            const std::uint32_t s = t.series[k];
            const Series& x = devices_.series(s);
            // Its device's first reading names this owner of the series slot:
            // a slot a later device or key takes gets another record.
            char rec[16];
            put32(rec, x.device);
            put32(rec + 4, x.key);
            put64(rec + 8, devices_.device(x.device).first_ms);
            journal_->series_saved(s, {rec, sizeof rec});
            for (std::uint32_t a = 0; a < arch.n; ++a) {
                const std::uint32_t slot = devices_.bucket_slot(a, ts);
                const Bucket& bk = devices_.bucket(s, a, slot);
                journal_->bucket_saved(s, a, slot, {reinterpret_cast<const char*>(&bk), sizeof bk});
            }
        }
    }
    if (t.was_stale) {
        const Device& d = devices_.device(t.device);
        const std::string_view name(d.name, d.name_len);
        TextOut<96> text;
        text << name << " is back";
        post_device_state(ri, name, text.view(), "back");
    }
    BrokerForCommands::wake_sweep(*this); // the new interval may make it go stale
    return t.device;
}

void Broker::post_device_state(std::uint32_t ri, std::string_view name, std::string_view text, const char* state) {
    char data[96]; // a device name is at most 24 bytes
    JsonWriter w(data, sizeof data);
    w.begin_object();
    w.key("device");
    w.string(name);
    w.key("state");
    w.string(state);
    w.end_object();
    PostResult r;
    (void)store(ri, CommandRouter::kBotName, MsgKind::system, text, {data, w.size()}, {}, r);
}

void Broker::save_device(std::uint32_t i) {
    if (journal_ == nullptr || i >= devices_.capacity()) return;
    const std::size_t size = device_record_size(limits_);
    char* r = device_buf_.data(); // sized for one record at start
    std::memset(r, 0, size);
    const Device& d = devices_.device(i);
    r[0] = static_cast<char>(d.used);
    r[1] = static_cast<char>(d.stale);
    r[2] = static_cast<char>(d.name_len);
    put32(r + 4, d.room);
    if (d.used && d.room < rooms_.size()) std::memcpy(r + 8, rooms_[d.room].epoch, kEpochLen);
    std::memcpy(r + 16, d.name, d.name_len);
    put64(r + 40, d.first_ms);
    put64(r + 48, d.last_ms);
    put32(r + 56, d.interval_ms);
    put32(r + 60, d.readings);
    put32(r + 64, d.nkeys);
    for (std::uint32_t k = 0; k < d.nkeys; ++k) {
        char* p = r + kDeviceHead + std::size_t{k} * (kKeyHead + limits_.max_data_string);
        const DeviceKey& key = devices_.key(i, k);
        p[0] = static_cast<char>(key.name_len);
        std::memcpy(p + 1, key.name, key.name_len);
        p[25] = static_cast<char>(key.type);
        p[26] = static_cast<char>(key.flag);
        put16(p + 28, key.str_len);
        put32(p + 32, key.series);
        std::memcpy(p + 36, &key.number, 8);
        const std::string_view str = devices_.string_value(i, k);
        std::memcpy(p + kKeyHead, str.data(), str.size());
    }
    journal_->device_saved(i, {r, size});
}

bool Broker::restore_device(std::uint32_t i, std::string_view bytes) {
    const std::size_t size = device_record_size(limits_);
    if (bytes.size() != size || i >= devices_.capacity() || bytes[0] == 0) return false;
    const char* r = bytes.data();
    Device d{};
    d.stale = r[1] != 0;
    d.name_len = static_cast<std::uint8_t>(r[2]);
    d.room = get32(r + 4);
    // Its room must still hold the history the device posted into.
    if (d.room >= rooms_.size() || !rooms_[d.room].used || std::memcmp(rooms_[d.room].epoch, r + 8, kEpochLen) != 0 ||
        d.name_len > kNickMax) {
        return false;
    }
    std::memcpy(d.name, r + 16, d.name_len);
    const std::uint32_t same = devices_.find(d.room, std::string_view(d.name, d.name_len));
    if (same != kNone && same != i) return false; // one record per device
    d.first_ms = get64(r + 40);
    d.last_ms = get64(r + 48);
    d.interval_ms = get32(r + 56);
    d.readings = get32(r + 60);
    d.nkeys = get32(r + 64);
    if (d.nkeys > limits_.keys_per_device) return false;
    DeviceKey keys[64];
    if (d.nkeys > 64) return false;
    const char* strings = r + kDeviceHead; // each key's string at its own offset below
    std::unique_ptr<char[]> packed(new char[std::size_t{d.nkeys} * limits_.max_data_string + 1]);
    for (std::uint32_t k = 0; k < d.nkeys; ++k) {
        const char* p = strings + std::size_t{k} * (kKeyHead + limits_.max_data_string);
        DeviceKey& key = keys[k];
        key = DeviceKey{};
        key.name_len = static_cast<std::uint8_t>(p[0]);
        if (key.name_len > kNickMax) return false;
        std::memcpy(key.name, p + 1, key.name_len);
        key.type = static_cast<ValueType>(p[25]);
        if (static_cast<unsigned>(p[25]) > static_cast<unsigned>(ValueType::boolean)) return false;
        key.flag = p[26] != 0;
        key.str_len = get16(p + 28);
        key.series = get32(p + 32);
        std::memcpy(&key.number, p + 36, 8);
        // What comes back is written into JSON as it is: finite numbers and
        // well-formed UTF-8 only, as a reading's parser lets through.
        if (key.str_len > limits_.max_data_string || !std::isfinite(key.number) ||
            !utf8_valid(key.name, key.name_len) || !utf8_valid(p + kKeyHead, key.str_len)) {
            return false;
        }
        std::memcpy(packed.get() + std::size_t{k} * limits_.max_data_string, p + kKeyHead, key.str_len);
    }
    return devices_.restore_device(i, d, keys, packed.get());
}

bool Broker::restore_series(std::uint32_t s, std::string_view bytes) {
    if (bytes.size() != 16) return false;
    Series x{};
    x.device = get32(bytes.data());
    x.key = get32(bytes.data() + 4);
    // Only a series its device (restored before, the same device: the same
    // first reading) points at.
    if (x.device >= devices_.capacity() || !devices_.device(x.device).used ||
        devices_.device(x.device).first_ms != get64(bytes.data() + 8) || x.key >= devices_.device(x.device).nkeys ||
        devices_.key(x.device, x.key).series != s) {
        return false;
    }
    return devices_.restore_series(s, x);
}

bool Broker::restore_bucket(std::uint32_t s, std::uint32_t archive, std::uint32_t slot, std::string_view bytes) {
    if (bytes.size() != sizeof(Bucket) || s >= devices_.series_capacity() || !devices_.series(s).used) return false;
    Bucket b;
    std::memcpy(&b, bytes.data(), sizeof b);
    return devices_.restore_bucket(s, archive, slot, b);
}

void Broker::forget_devices(std::uint32_t ri) {
    if (journal_ != nullptr) {
        // Cleared on disk too, so a restart does not bring them back.
        const std::size_t size = device_record_size(limits_);
        std::memset(device_buf_.data(), 0, size);
        const char cleared[16] = {};
        for (std::uint32_t i = 0; i < devices_.capacity(); ++i) {
            const Device& d = devices_.device(i);
            if (!d.used || d.room != ri) continue;
            for (std::uint32_t k = 0; k < d.nkeys; ++k) {
                const std::uint32_t s = devices_.series_of(i, k);
                if (s != kNoSeries) journal_->series_saved(s, {cleared, sizeof cleared});
            }
            journal_->device_saved(i, {device_buf_.data(), size});
        }
    }
    devices_.forget_room(ri);
}

bool Broker::sweep_devices(std::uint64_t now) {
    bool pending = false;
    const std::uint64_t stale_ms = std::uint64_t{limits_.device_stale_s} * 1000;
    devices_.sweep(now, stale_ms, [&](std::uint32_t i) {
        const Device& d = devices_.device(i);
        const std::string_view name(d.name, d.name_len);
        char at[6];
        clock_text(*this, d.last_ms, at);
        TextOut<128> text;
        text << name << " went quiet (last seen " << std::string_view(at, 5) << ")";
        post_device_state(d.room, name, text.view(), "stale");
        save_device(i);
    });
    for (std::uint32_t i = 0; i < devices_.capacity() && !pending; ++i) {
        const Device& d = devices_.device(i);
        pending = d.used && !d.stale && DeviceStore::quiet_after(d, stale_ms) != 0;
    }
    return pending;
}

} // namespace roost
