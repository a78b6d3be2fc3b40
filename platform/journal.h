// DiskJournal: the broker's history, device readings, nick keys, read marks,
// the records of the bots and the MQTT bridge (RecordTable) and the device
// store on disk, in four files of fixed size
// (history.roost, readings.roost, state.roost, devices.roost) made and
// reserved with posix_fallocate at the first start, so disk use is known up
// front like memory. Records carry a CRC32C; state and device records have
// two copies written alternately. The byte layout of every file, and what
// start-up does with damage, is described once, in docs/persistence.md.
//
// Integers are little-endian (every Roost target is). Not thread-safe.
#pragma once

#include "broker/bots.h"
#include "broker/journal.h"
#include "broker/limits.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace roost {

class Broker;

enum class FsyncPolicy : std::uint8_t { always, batch, never };

// The sizes the files are made for; a file made for other sizes is refused.
struct JournalGeometry {
    std::uint32_t rooms = 0;          // room slots (max_rooms)
    std::uint32_t ring_bytes = 0;     // one room ring's arena
    std::uint32_t device_ring_bytes = 0; // one room's device ring (readings.roost)
    std::uint32_t nicks = 0;          // nick table entries (max_nicks)
    std::uint32_t reads_per_room = 0; // read marks per room
    std::uint32_t max_key = 0;        // bytes of a nick's key
    std::uint32_t reminders = 0;      // record tables (broker/bots.h): max_reminders,
    std::uint32_t watches = 0;        // max_watches (and one RoomBots per room)
    std::uint64_t max_event = 0;      // bytes of the largest msg (sizes the write-back log; not in the files)
};

// The geometry the broker's limits give (what Server opens the journal with).
[[nodiscard]] JournalGeometry journal_geometry(const CoreLimits& l);

class DiskJournal final : public Journal {
public:
    static constexpr std::uint32_t kFormat = 1; // the on-disk format this build writes and reads

    DiskJournal() = default;
    ~DiskJournal() override;
    DiskJournal(const DiskJournal&) = delete;
    DiskJournal& operator=(const DiskJournal&) = delete;

    // Opens `dir`/history.roost and `dir`/state.roost (making the directory
    // and the files, reserved, when missing), locks them against a
    // second broker, and replays them into `b` through Broker::restore_*.
    // `report` gets one line per finding (what was restored, damage cut,
    // space that could not be reserved). Returns false with `why` when the
    // broker must not start: a file it cannot read or write, one from a
    // newer format or for other sizes, or one locked by another broker.
    [[nodiscard]] bool open(const std::string& dir, const JournalGeometry& g, FsyncPolicy policy, Broker& b,
                            std::vector<std::string>& report, std::string& why);

    Errc room_started(std::uint32_t room, std::string_view name, std::string_view epoch) override;
    Errc appended(std::uint32_t room, HistoryClass cls, std::uint64_t seq, const EntryMeta& meta,
                  std::string_view msg_json) override;
    void key_set(std::uint32_t nick, std::string_view display, std::string_view key) override;
    void read_set(std::uint32_t room, std::uint32_t mark, std::string_view nick, std::uint64_t seq) override;
    void record_saved(std::uint32_t table, std::uint32_t index, std::string_view bytes) override;
    void device_saved(std::uint32_t index, std::string_view bytes) override;
    void series_saved(std::uint32_t s, std::string_view bytes) override;
    void bucket_saved(std::uint32_t s, std::uint32_t archive, std::uint32_t slot, std::string_view bytes) override;

    FsyncPolicy policy() const { return policy_; }
    // Written since the last sync() that succeeded.
    bool dirty() const { return dirty_; }
    // With fsync = always, a reply that acknowledges a message (a WebSocket
    // frame, an HTTP 201) goes out only after sync() succeeded.
    bool must_sync_before_reply() const { return policy_ == FsyncPolicy::always && dirty_; }
    // fdatasync() both files when dirty; true when everything written so far
    // is on the medium. Blocks for the write itself.
    //
    // A sync the disk refuses (EIO, ENOSPC) leaves the journal `failing`:
    // writes are refused (room_started/appended answer disk_full, so posts
    // get 507 / server_busy and nothing new is acknowledged), and the next
    // sync() first writes again everything written since the last good sync
    // (kept in the write-back log: after a failed fdatasync Linux may have
    // dropped those pages while a later fdatasync reports success), then
    // syncs. The caller retries (Server::sync_journal) until one succeeds.
    [[nodiscard]] bool sync();
    bool failing() const { return failing_; }
    // Bytes reserved for the write-back log.
    std::size_t log_capacity() const { return log_cap_; }

    // Tests: the function that syncs a descriptor (fdatasync by default), to
    // make the disk refuse.
    using SyncFn = int (*)(int fd);
    void set_sync_fn(SyncFn fn) { sync_fn_ = fn; }

    // Bytes the files take (their fixed size).
    std::uint64_t file_bytes() const { return history_size_ + state_size_ + readings_size_ + devices_size_; }
    // Of which devices.roost.
    std::uint64_t device_file_bytes() const { return devices_size_; }

    struct Stats {
        std::uint64_t records = 0, bytes = 0, syncs = 0, write_errors = 0;
        std::uint64_t sync_failures = 0; // fdatasync calls the disk refused
        std::uint64_t damaged = 0; // records dropped at start-up (bad CRC, lost seqs)
    };
    const Stats& stats() const { return stats_; }

private:
    struct Slot {
        bool used = false;
        std::uint64_t gen = 0;
        std::uint64_t wp = 0;  // offset in the slot of the next record
        std::uint64_t rwp = 0; // offset in the slot's readings area of the next reading
    };
    // `layout_from`: for state.roost, where the RecordTable records start. A
    // file whose settings match but whose record layout is another build's
    // (geo words 6 and 7) keeps what comes before (nick keys, read marks)
    // and starts those records empty, said in `report`; 0: refused.
    bool open_file(const std::string& path, std::uint32_t kind, const std::uint32_t geo[8], std::uint64_t size,
                   int& fd, bool& fresh, std::vector<std::string>& report, std::string& why,
                   std::uint64_t layout_from = 0);
    void load_history(Broker& b, std::vector<std::string>& report);
    void load_state(Broker& b, std::vector<std::string>& report);
    // devices.roost (platform/journal_devices.cpp): sizes from the broker's
    // limits, then open (or set aside and make again), then load.
    void size_devices(const Broker& b);
    bool open_devices(const std::string& dir, bool& fresh, std::vector<std::string>& report, std::string& why);
    void load_devices(Broker& b, std::vector<std::string>& report);
    std::uint64_t device_off(std::uint32_t i, std::uint32_t copy) const;
    std::uint64_t series_off(std::uint32_t s, std::uint32_t copy) const;
    std::uint64_t bucket_off(std::uint32_t s, std::uint32_t archive, std::uint32_t slot) const;
    bool write_at(int fd, const char* data, std::size_t len, std::uint64_t off);
    bool pwrite_all(int fd, const char* data, std::size_t len, std::uint64_t off);
    bool log_write(int fd, const char* data, std::size_t len, std::uint64_t off);
    std::uint64_t slot_off(std::uint32_t room) const;
    std::uint64_t nick_off(std::uint32_t nick, std::uint32_t copy) const;
    std::uint64_t read_off(std::uint32_t room, std::uint32_t mark, std::uint32_t copy) const;
    std::uint64_t record_off(std::uint32_t table, std::uint32_t index, std::uint32_t copy) const;
    std::uint32_t record_count(std::uint32_t table) const;

    JournalGeometry geo_;
    FsyncPolicy policy_ = FsyncPolicy::batch;
    int history_fd_ = -1, state_fd_ = -1, readings_fd_ = -1, devices_fd_ = -1;
    std::uint64_t slot_size_ = 0, history_size_ = 0, state_size_ = 0;
    std::uint64_t rslot_size_ = 0, readings_size_ = 0; // readings.roost: one area per room slot
    std::uint32_t nick_rec_ = 0;
    std::uint64_t max_gen_ = 0;
    std::vector<Slot> slots_;
    std::vector<std::uint64_t> nick_ver_, read_ver_; // the version last written per state record
    std::vector<std::uint64_t> record_ver_[kRecordTables]; // per record table
    std::uint64_t record_bytes_[kRecordTables] = {};         // bytes of one copy of a record (64-aligned)
    std::vector<char> buf_;                         // one record being built (a slot's worth)
    // devices.roost: its geometry (header fields), one device copy's bytes,
    // where the series and the buckets start, per series the version last
    // written and its record (a bucket carries its series record's crc, so
    // buckets of a series slot's earlier owner never come back).
    std::uint32_t dgeo_[16] = {};
    std::uint32_t device_rec_ = 0, device_copy_ = 0, buckets_per_series_ = 0;
    std::uint32_t archive_base_[kMaxArchives] = {};
    std::uint64_t series_base_ = 0, buckets_base_ = 0, devices_size_ = 0;
    std::vector<std::uint64_t> device_ver_, series_ver_;
    std::vector<std::uint32_t> series_tag_; // crc32c of the series record (and owner) last written or read
    std::vector<bool> series_live_;         // its record is its owner's (restored, or written since)
    std::vector<char> series_rec_;          // and that record (16 bytes a series)
    std::uint64_t series_owner_ = 0;        // owners drawn without entropy (getrandom failed)
    bool dirty_ = false;
    bool failing_ = false;
    // The write-back log: every write since the last good sync, as
    // [fd u32][len u32][offset u64][bytes], to write again after a failed
    // sync. Fixed capacity (log_cap_); when full, write_at() syncs first.
    std::unique_ptr<char[]> log_;
    std::size_t log_len_ = 0, log_cap_ = 0;
    SyncFn sync_fn_ = nullptr;
    Stats stats_;
};

} // namespace roost
