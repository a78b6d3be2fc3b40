// DiskJournal's devices.roost: the device store (broker/device_store.h) kept
// in place in one fixed, preallocated file, so kill -9 loses no reading the
// broker took (at the fsync policy's contract) and disk use is known at start.
//
// Layout (integers little-endian):
//
//   [0, 4096)  the file header, two copies (at 0 and at 2048), each
//              magic "ROOSTJNL" | format u32 | kind u32 (4) | geometry u32 x 16
//              | crc32c u32 (of the 80 bytes before it). Geometry:
//              max_devices, device record bytes, max_series, keys_per_device,
//              max_data_string, archives, step_ms x 4, count x 4 (0 past the
//              last archive), series record bytes (16), bucket bytes (20).
//   devices    max_devices x 2 copies of D bytes (D = the device record plus
//              16, rounded up to 64). A copy:
//                magic "RDEV" u32 | crc32c u32 (of bytes 8..D) | version u64
//                | the device record (Broker::device_record_size bytes,
//                  broker/devices.cpp) | zeros
//              Writes alternate between the copies by version, so a torn
//              write leaves the previous value; the valid copy with the
//              higher version is the record. A record whose `used` byte is 0
//              is a cleared slot (a device forgotten).
//   series     max_series x 2 copies of 64 bytes:
//                magic "RSER" u32 | crc32c u32 (of bytes 8..64) | version u64
//                | device u32 | key u32 | the device's first_ms u64
//                | owner u64 | zeros
//              (device, key and first_ms all zero: cleared with its device).
//              `owner` is a random number the journal draws for each new
//              owner of the slot, so even an owner whose record reads the
//              same as an earlier one's (whose record may be lost to damage,
//              its buckets not) is another owner.
//   buckets    max_series x B x 32 bytes (B: the buckets of all archives of a
//              series; series s's archive a slot k at s x B + (the counts of
//              archives before a) + k):
//                crc32c u32 (of bytes 4..32) | tag u32 | id u32 | min f32
//                | max f32 | sum f32 | count u32 | zeros u32
//              `tag` is the crc32c of the series record (its 16 bytes and
//              owner) the bucket was written under: a series slot taken by another
//              device or key gets another tag, so its earlier owner's buckets
//              are ignored without being wiped. All zero: never written.
//
// Sizes at the defaults (32 devices, 8 keys of 64-byte strings, 64 series,
// archives 1m:2h,15m:48h,1h:30d = 1032 buckets a series): D = 960, the file
// 4 KiB + 60 KiB + 8 KiB + 2.0 MiB = 2.1 MiB (a device 1.9 KiB, a series
// 33 KiB).
//
// Start-up (after history.roost and state.roost, so rooms and their epochs
// are known): every device (Broker::restore_device refuses one out of range
// or of a room whose history changed), then every series (refused unless its
// device, restored, points at it), then the buckets of the restored series
// whose tag matches. A refused device or series is cleared on disk, so what
// one start refused never comes back at a later one. Damaged copies and refused records are counted and
// reported; nothing in the file can make the broker crash or read outside
// its tables. A file made for other sizes (a setting changed), of another
// format or whose headers are both damaged is renamed devices.roost.old
// (replacing an earlier one, so disk use stays bounded) and a new one made:
// its devices start over, the rest of the journal is untouched.
#include "platform/journal.h"

#include "broker/broker.h"
#include "platform/crc32c.h"
#include "platform/journal_file.h"

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

namespace roost {

namespace {

using namespace journal_file;

constexpr std::uint32_t kDevicesKind = 4;
constexpr std::size_t kDevHeaderUsed = 84; // magic 8 | format 4 | kind 4 | geometry 64 | crc 4
constexpr std::size_t kDevGeo = 16;
constexpr std::uint32_t kDeviceMagic = 0x56454452u; // "RDEV"
constexpr std::uint32_t kSeriesMagic = 0x52455352u; // "RSER"
constexpr std::size_t kCopyHeader = 16;              // magic | crc | version
constexpr std::size_t kSeriesRec = 16;
constexpr std::size_t kSeriesCopy = 64;
constexpr std::size_t kSeriesTagged = kSeriesRec + 8; // the record and its owner
constexpr std::size_t kBucketRec = 32;

void encode_header(char* h, const std::uint32_t geo[kDevGeo]) {
    std::memset(h, 0, kDevHeaderUsed);
    std::memcpy(h, kFileMagic, 8);
    put32(h + 8, DiskJournal::kFormat);
    put32(h + 12, kDevicesKind);
    for (std::size_t i = 0; i < kDevGeo; ++i) put32(h + 16 + 4 * i, geo[i]);
    put32(h + 80, crc32c(0, h, 80));
}

// The valid copy with the higher version of the two at `c` (each `size`
// bytes), or nullptr; copies with the magic but a bad crc are counted.
const char* pick_copy(const char* c, std::size_t size, std::uint32_t magic, std::uint64_t& version,
                      std::uint64_t& damaged) {
    const char* best = nullptr;
    for (const char* x : {c, c + size}) {
        if (get32(x) != magic) continue;
        if (get32(x + 4) != crc32c(0, x + 8, size - 8)) {
            ++damaged;
        } else if (best == nullptr || get64(x + 8) > get64(best + 8)) {
            best = x;
        }
    }
    version = best != nullptr ? get64(best + 8) : 0;
    return best;
}

bool all_zero(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] != 0) return false;
    }
    return true;
}

} // namespace

void DiskJournal::size_devices(const Broker& b) {
    const CoreLimits& l = b.limits();
    device_rec_ = static_cast<std::uint32_t>(Broker::device_record_size(l));
    device_copy_ = static_cast<std::uint32_t>((kCopyHeader + std::uint64_t{device_rec_} + 63) / 64 * 64);
    buckets_per_series_ = l.archives.buckets();
    std::uint32_t off = 0;
    for (std::uint32_t a = 0; a < kMaxArchives; ++a) {
        archive_base_[a] = off;
        off += a < l.archives.n ? l.archives.a[a].count : 0;
    }
    series_base_ = kFileHeader + std::uint64_t{l.max_devices} * 2 * device_copy_;
    buckets_base_ = series_base_ + std::uint64_t{l.max_series} * 2 * kSeriesCopy;
    devices_size_ = buckets_base_ + std::uint64_t{l.max_series} * buckets_per_series_ * kBucketRec;
    const std::uint32_t geo[kDevGeo] = {l.max_devices,
                                        device_rec_,
                                        l.max_series,
                                        l.keys_per_device,
                                        l.max_data_string,
                                        l.archives.n,
                                        l.archives.a[0].step_ms,
                                        l.archives.a[1].step_ms,
                                        l.archives.a[2].step_ms,
                                        l.archives.a[3].step_ms,
                                        l.archives.a[0].count,
                                        l.archives.a[1].count,
                                        l.archives.a[2].count,
                                        l.archives.a[3].count,
                                        static_cast<std::uint32_t>(kSeriesRec),
                                        static_cast<std::uint32_t>(sizeof(Bucket))};
    std::memcpy(dgeo_, geo, sizeof geo);
    device_ver_.assign(l.max_devices, 0);
    series_ver_.assign(l.max_series, 0);
    series_tag_.assign(l.max_series, 0);
    series_live_.assign(l.max_series, false);
    series_rec_.assign(std::size_t{l.max_series} * kSeriesRec, 0);
    series_owner_ = 0;
}

std::uint64_t DiskJournal::device_off(std::uint32_t i, std::uint32_t copy) const {
    return kFileHeader + (std::uint64_t{i} * 2 + copy) * device_copy_;
}

std::uint64_t DiskJournal::series_off(std::uint32_t s, std::uint32_t copy) const {
    return series_base_ + (std::uint64_t{s} * 2 + copy) * kSeriesCopy;
}

std::uint64_t DiskJournal::bucket_off(std::uint32_t s, std::uint32_t archive, std::uint32_t slot) const {
    return buckets_base_ + (std::uint64_t{s} * buckets_per_series_ + archive_base_[archive] + slot) * kBucketRec;
}

bool DiskJournal::open_devices(const std::string& dir, bool& fresh, std::vector<std::string>& report,
                               std::string& why) {
    const std::string path = dir + "/devices.roost";
    char want[kDevHeaderUsed];
    encode_header(want, dgeo_);
    for (int attempt = 0; attempt < 2; ++attempt) {
        devices_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (devices_fd_ < 0) {
            why = path + ": " + errno_text(errno);
            return false;
        }
        if (flock(devices_fd_, LOCK_EX | LOCK_NB) != 0) {
            why = path + ": in use by another roost (" + errno_text(errno) + ")";
            return false;
        }
        struct stat st {};
        if (fstat(devices_fd_, &st) != 0) {
            why = path + ": " + errno_text(errno);
            return false;
        }
        fresh = st.st_size == 0;
        if (!fresh) {
            char h[kFileHeader];
            if (!read_at(devices_fd_, h, sizeof h, 0)) {
                why = path + ": " + errno_text(errno);
                return false;
            }
            const char* good = nullptr;
            for (const char* c : {h, h + kHeaderCopy}) {
                if (std::memcmp(c, kFileMagic, 8) == 0 && get32(c + 80) == crc32c(0, c, 80) && good == nullptr) {
                    good = c;
                }
            }
            const char* problem = good == nullptr                                      ? "no intact header"
                                  : get32(good + 8) != kFormat || get32(good + 12) != kDevicesKind ? "another format"
                                  : std::memcmp(good + 16, want + 16, 4 * kDevGeo) != 0
                                      ? "other sizes (max_devices, keys_per_device, max_data_string, max_series "
                                        "or device_archives changed)"
                                      : nullptr;
            if (problem != nullptr) {
                // Never misread: keep it aside for whoever wants it back, and
                // start the devices over.
                const std::string aside = path + ".old";
                close(devices_fd_);
                devices_fd_ = -1;
                if (attempt > 0 || std::rename(path.c_str(), aside.c_str()) != 0) {
                    why = path + ": made for " + problem + ", and it cannot be set aside: " + errno_text(errno);
                    return false;
                }
                report.push_back(path + ": made for " + problem + "; set aside as " + aside +
                                 ", the devices start over");
                continue;
            }
            if (good != h) report.push_back(path + ": the first copy of the header was damaged; the second was used");
            if (static_cast<std::uint64_t>(st.st_size) < devices_size_) {
                report.push_back(path + ": truncated to " + std::to_string(st.st_size) + " of " +
                                 std::to_string(devices_size_) + " bytes; what is missing reads as empty");
            }
        }
        char h[kFileHeader] = {};
        std::memcpy(h, want, kDevHeaderUsed);
        std::memcpy(h + kHeaderCopy, want, kDevHeaderUsed);
        if (!write_at(devices_fd_, h, sizeof h, 0)) {
            why = path + ": cannot write: " + errno_text(errno);
            return false;
        }
        if (static_cast<std::uint64_t>(st.st_size) < devices_size_) {
            const int rc = posix_fallocate(devices_fd_, 0, static_cast<off_t>(devices_size_));
            if (rc != 0) {
                if (ftruncate(devices_fd_, static_cast<off_t>(devices_size_)) != 0) {
                    why = path + ": cannot size it to " + std::to_string(devices_size_) + " bytes: " + errno_text(errno);
                    return false;
                }
                report.push_back(path + ": could not reserve " + std::to_string(devices_size_) + " bytes (" +
                                 errno_text(rc) + "); the file is sparse");
            }
        }
        return true;
    }
    return false; // not reached: the second attempt returns
}

void DiskJournal::load_devices(Broker& b, std::vector<std::string>& report) {
    const CoreLimits& l = b.limits();
    std::uint64_t damaged = 0, refused = 0, devices = 0, series = 0, buckets = 0;
    std::vector<char> rec(2 * std::size_t{device_copy_});
    std::vector<std::uint32_t> clear;
    for (std::uint32_t i = 0; i < l.max_devices; ++i) {
        if (!read_at(devices_fd_, rec.data(), rec.size(), device_off(i, 0))) continue;
        const char* c = pick_copy(rec.data(), device_copy_, kDeviceMagic, device_ver_[i], damaged);
        if (c == nullptr || c[kCopyHeader] == 0) continue; // never written, or cleared
        if (b.restore_device(i, std::string_view(c + kCopyHeader, device_rec_))) {
            ++devices;
        } else {
            ++refused;
            clear.push_back(i);
        }
    }
    // A refused device or series is cleared on disk: it must not come back
    // at a later start, when a room that reads the same (or a device table
    // that fits it) may be there.
    const std::vector<char> zeros(device_rec_, 0);
    for (const std::uint32_t i : clear) device_saved(i, {zeros.data(), zeros.size()});
    std::vector<bool> restored(l.max_series, false);
    std::vector<std::uint32_t> clear_series;
    char sc[2 * kSeriesCopy];
    for (std::uint32_t s = 0; s < l.max_series; ++s) {
        if (!read_at(devices_fd_, sc, sizeof sc, series_off(s, 0))) continue;
        const char* c = pick_copy(sc, kSeriesCopy, kSeriesMagic, series_ver_[s], damaged);
        if (c == nullptr) continue;
        series_tag_[s] = crc32c(0, c + kCopyHeader, kSeriesTagged);
        if (all_zero(c + kCopyHeader, kSeriesRec)) continue; // cleared with its device
        if (b.restore_series(s, std::string_view(c + kCopyHeader, kSeriesRec))) {
            restored[s] = true;
            series_live_[s] = true;
            std::memcpy(&series_rec_[std::size_t{s} * kSeriesRec], c + kCopyHeader, kSeriesRec);
            ++series;
        } else {
            ++refused;
            clear_series.push_back(s);
        }
    }
    const char cleared[kSeriesRec] = {};
    for (const std::uint32_t s : clear_series) series_saved(s, {cleared, sizeof cleared});
    std::vector<char> area(std::size_t{buckets_per_series_} * kBucketRec);
    for (std::uint32_t s = 0; s < l.max_series; ++s) {
        if (!restored[s] || !read_at(devices_fd_, area.data(), area.size(), bucket_off(s, 0, 0))) continue;
        for (std::uint32_t a = 0; a < l.archives.n; ++a) {
            for (std::uint32_t k = 0; k < l.archives.a[a].count; ++k) {
                const char* r = area.data() + (std::size_t{archive_base_[a]} + k) * kBucketRec;
                if (all_zero(r, kBucketRec)) continue;
                if (get32(r) != crc32c(0, r + 4, kBucketRec - 4)) {
                    ++damaged;
                } else if (get32(r + 4) != series_tag_[s]) {
                    continue; // an earlier owner's of this series slot
                } else if (b.restore_bucket(s, a, k, std::string_view(r + 8, sizeof(Bucket)))) {
                    ++buckets;
                } else {
                    ++refused;
                }
            }
        }
    }
    stats_.damaged += damaged + refused;
    report.push_back("devices.roost: restored " + std::to_string(devices) + " device(s), " + std::to_string(series) +
                     " series, " + std::to_string(buckets) + " bucket(s)" +
                     (damaged > 0 ? "; " + std::to_string(damaged) + " damaged record(s) ignored" : "") +
                     (refused > 0 ? "; " + std::to_string(refused) + " record(s) refused (out of range, or of a room "
                                                                       "that started a new history)"
                                  : ""));
}

void DiskJournal::device_saved(std::uint32_t index, std::string_view bytes) {
    if (devices_fd_ < 0 || index >= device_ver_.size() || bytes.size() != device_rec_) return;
    char* c = buf_.data(); // at least a slot's worth, more than a device copy (checked at open)
    std::memset(c, 0, device_copy_);
    const std::uint64_t ver = ++device_ver_[index];
    put32(c, kDeviceMagic);
    put64(c + 8, ver);
    std::memcpy(c + kCopyHeader, bytes.data(), bytes.size());
    put32(c + 4, crc32c(0, c + 8, device_copy_ - 8));
    write_at(devices_fd_, c, device_copy_, device_off(index, static_cast<std::uint32_t>(ver & 1)));
}

void DiskJournal::series_saved(std::uint32_t s, std::string_view bytes) {
    if (devices_fd_ < 0 || s >= series_ver_.size() || bytes.size() != kSeriesRec) return;
    char* held = &series_rec_[std::size_t{s} * kSeriesRec];
    if (series_live_[s] && std::memcmp(held, bytes.data(), kSeriesRec) == 0) return; // on disk as it is
    // A new owner of the slot (or a cleared one): a new owner number, so
    // no bucket written under an earlier owner matches its tag.
    char c[kSeriesCopy] = {};
    const std::uint64_t ver = ++series_ver_[s];
    put32(c, kSeriesMagic);
    put64(c + 8, ver);
    std::memcpy(c + kCopyHeader, bytes.data(), bytes.size());
    std::uint64_t owner = 0;
    if (getrandom(&owner, sizeof owner, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof owner)) {
        owner = ++series_owner_ * 0x9E3779B97F4A7C15ull; // no entropy: distinct within this run at least
    }
    put64(c + kCopyHeader + kSeriesRec, owner);
    put32(c + 4, crc32c(0, c + 8, kSeriesCopy - 8));
    // The tag changes even when the write fails: the buckets that follow
    // must not pass for an earlier owner's.
    series_tag_[s] = crc32c(0, c + kCopyHeader, kSeriesTagged);
    std::memcpy(held, bytes.data(), kSeriesRec);
    series_live_[s] = !all_zero(bytes.data(), kSeriesRec);
    write_at(devices_fd_, c, kSeriesCopy, series_off(s, static_cast<std::uint32_t>(ver & 1)));
}

void DiskJournal::bucket_saved(std::uint32_t s, std::uint32_t archive, std::uint32_t slot, std::string_view bytes) {
    if (devices_fd_ < 0 || s >= series_tag_.size() || archive >= dgeo_[5] || archive >= kMaxArchives ||
        slot >= dgeo_[10 + archive] || bytes.size() != sizeof(Bucket)) {
        return;
    }
    char r[kBucketRec] = {};
    put32(r + 4, series_tag_[s]);
    std::memcpy(r + 8, bytes.data(), bytes.size());
    put32(r, crc32c(0, r + 4, kBucketRec - 4));
    write_at(devices_fd_, r, kBucketRec, bucket_off(s, archive, slot));
}

} // namespace roost
