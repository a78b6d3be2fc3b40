// DeviceStore: what the broker knows about the devices that post into its
// rooms, in tables fixed at start (nothing allocated after construction):
//
//   devices  max_devices x (room, name, last seen, usual interval, stale,
//            and the latest value of up to keys_per_device keys:
//            numbers, strings of max_data_string bytes, booleans)
//   series   max_series numeric (device, key) pairs, each with round-robin
//            archives (RRDtool's idea): per archive `count` buckets of
//            `step_ms`, each the min / sum / count / max of the readings
//            that fell in it. A bucket knows which step it holds, so a
//            bucket nothing fell in (a gap) reads as a gap, never as a
//            made-up value, and old ones are overwritten in place.
//
//   archive  step     count  span       (defaults: device_archives)
//   0        1 min    120    2 hours    1 bucket per reading minute
//   1        15 min   192    48 hours
//   2        1 hour   720    30 days
//
// Readings arrive as the compact `data` JSON the decoder produced (flat:
// numbers, strings, booleans). A device is known by its room slot and its
// name (compared case-insensitively, like nicks). When the device table is
// full, a device quiet for longer than the longest archive gives its slot
// up; otherwise a new device is refused (server_busy, max_devices).
//
// Persistence goes through the broker's Journal (device_saved and
// bucket_saved); restore_* rebuild the tables at start.
#pragma once

#include "broker/error.h"
#include "broker/limits.h"
#include "broker/names.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace roost {

// Parses "1m:2h,15m:48h,1h:30d" (each STEP:SPAN with s, m, h, d; steps
// ascending, each a multiple of the one before, span a multiple of its
// step). False with `why` for anything else.
[[nodiscard]] bool parse_archives(std::string_view text, ArchiveSet& out, const char*& why);

enum class ValueType : std::uint8_t { none, number, string, boolean };

// One key's latest value. String bytes live in the store's string pool.
struct DeviceKey {
    char name[kNickMax + 1];
    std::uint8_t name_len;
    ValueType type;
    bool flag;
    double number;
    std::uint16_t str_len;
    std::uint32_t series; // index in the series table, or kNoSeries
};
inline constexpr std::uint32_t kNoSeries = 0xffffffffu;

struct Device {
    bool used;
    bool stale;                   // announced as quiet
    std::uint32_t room;           // room slot
    char name[kNickMax + 1];      // as first posted
    std::uint8_t name_len;
    std::uint64_t first_ms, last_ms;
    std::uint32_t interval_ms;    // usual interval between readings (0: one reading so far)
    std::uint32_t readings;
    std::uint32_t nkeys;
};

// One bucket of an archive: the readings that fell in step `id` (ts / step).
struct Bucket {
    std::uint32_t id; // 0: never written
    float min, max, sum;
    std::uint32_t count;
};

struct Series {
    bool used;
    std::uint32_t device;
    std::uint32_t key; // index among the device's keys
};

class DeviceStore {
public:
    explicit DeviceStore(const CoreLimits& limits);
    DeviceStore(const DeviceStore&) = delete;
    DeviceStore& operator=(const DeviceStore&) = delete;

    // Bytes the tables of these limits take (broker/reserve.h).
    static std::uint64_t reserved_bytes(const CoreLimits& limits);

    // Whether a reading of `data_json` from `name` in room slot `room`
    // would be taken; the reason (a setting's name) when not. Nothing
    // changes. The broker asks before it stores the message.
    [[nodiscard]] Errc check(std::uint32_t room, std::string_view name, std::uint64_t now, std::string_view data_json,
                             const char*& why) const;

    // Takes a reading (after check() said ok). `device` is its index (kNone
    // only when check() was not asked); `series` lists the series whose
    // buckets changed (for the journal), at most keys_per_device of them;
    // `was_stale`: the device was stale (it is back) before this reading.
    struct Taken {
        std::uint32_t device = 0xffffffffu; // kNone (broker/tables.h)
        bool was_stale = false;
        bool is_new = false;
        std::uint32_t series[64];
        std::uint32_t nseries = 0;
    };
    void take(std::uint32_t room, std::string_view name, std::uint64_t ts, std::string_view data_json, Taken& out);

    // A room slot starts a new history: its devices are forgotten.
    void forget_room(std::uint32_t room);

    // Devices that went quiet since the last sweep: stale when no reading
    // for more than 3 x their usual interval, or stale_ms when set (> 0).
    // Calls back once per device that turns stale (then marked).
    template <typename F>
    void sweep(std::uint64_t now, std::uint64_t stale_ms, F&& on_stale) {
        for (std::uint32_t i = 0; i < ndevices_; ++i) {
            Device& d = devices_[i];
            if (!d.used || d.stale) continue;
            const std::uint64_t limit = quiet_after(d, stale_ms);
            if (limit != 0 && now > d.last_ms + limit) {
                d.stale = true;
                on_stale(i);
            }
        }
    }
    // How long `d` may be quiet before it is stale (0: never, it has no
    // usual interval yet and no stale_ms is set).
    static std::uint64_t quiet_after(const Device& d, std::uint64_t stale_ms);

    // Lookups: the device of `name` in room slot `room`, or kNone.
    std::uint32_t find(std::uint32_t room, std::string_view name) const;
    std::uint32_t capacity() const { return ndevices_; }
    const Device& device(std::uint32_t i) const { return devices_[i]; }
    const DeviceKey& key(std::uint32_t device, std::uint32_t k) const { return keys_[device * nkeys_ + k]; }
    std::string_view string_value(std::uint32_t device, std::uint32_t k) const;
    const ArchiveSet& archives() const { return archives_; }
    std::uint32_t series_capacity() const { return nseries_; }
    const Series& series(std::uint32_t s) const { return series_[s]; }
    // The series of a device's key k: its key's series when that series
    // belongs to it, else kNoSeries (a series lost to damage at restore).
    std::uint32_t series_of(std::uint32_t device, std::uint32_t k) const;
    // A bucket's sum over its count lies within its min and max (within
    // float rounding), unless the sum saturated at the float range (readings
    // near it make an average meaningless).
    static bool average_fits(const Bucket& b);
    const Bucket& bucket(std::uint32_t s, std::uint32_t archive, std::uint32_t slot) const;
    std::uint32_t bucket_slot(std::uint32_t archive, std::uint64_t ts) const; // where ts's bucket lives

    // The archive a query over `span_ms` reads: the finest whose span
    // covers it, else the longest.
    std::uint32_t archive_for(std::uint64_t span_ms) const;

    // Start-up (restore): a device record and a bucket as the journal kept
    // them; false (nothing changed) for anything out of range (a bucket: of
    // another slot than its step's, or min > max, or not finite).
    bool restore_device(std::uint32_t i, const Device& d, const DeviceKey* keys, const char* strings);
    bool restore_series(std::uint32_t s, const Series& x);
    bool restore_bucket(std::uint32_t s, std::uint32_t archive, std::uint32_t slot, const Bucket& b);

    std::uint32_t keys_per_device() const { return nkeys_; }
    std::uint32_t max_string() const { return max_string_; }

private:
    std::uint32_t find_free_device(std::uint64_t now) const;
    void forget_device(std::uint32_t i);
    void set_value(std::uint32_t device, std::string_view k, ValueType type, double number, bool flag,
                   std::string_view str, std::uint64_t ts, Taken& out);
    std::uint32_t free_series() const;
    Bucket* buckets_of(std::uint32_t s, std::uint32_t archive);

    ArchiveSet archives_;
    std::uint32_t ndevices_, nkeys_, nseries_, max_string_;
    std::unique_ptr<Device[]> devices_;
    std::unique_ptr<DeviceKey[]> keys_;
    std::unique_ptr<char[]> strings_; // ndevices x nkeys x max_string
    std::unique_ptr<Series[]> series_;
    struct FreeDeleter {
        void operator()(Bucket* p) const { std::free(p); }
    };
    // nseries x archives_.buckets(), from calloc: zero (never written)
    // pages cost no RSS until a series uses them.
    std::unique_ptr<Bucket[], FreeDeleter> buckets_;
    std::uint32_t archive_offset_[kMaxArchives] = {};
};

// Parses one compact flat `data` object as the decoder writes it, calling
// on_value(key, type, number, flag, string) for each member (strings
// unescaped into `scratch`, at most `scratch_cap` bytes). False for any
// input that is not such an object (nothing is called after that point).
using DataValueFn = void (*)(void* ctx, std::string_view key, ValueType type, double number, bool flag,
                             std::string_view str);
[[nodiscard]] bool parse_data(std::string_view json, char* scratch, std::size_t scratch_cap, DataValueFn fn, void* ctx);

} // namespace roost
