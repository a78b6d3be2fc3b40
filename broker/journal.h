// Journal: what the broker asks of durable storage, and nothing more. The
// platform's DiskJournal (platform/journal.cpp) keeps it in fixed,
// preallocated files under the data directory; without a data directory
// there is no Journal and history lives in memory only.
//
// Contract: the broker calls room_started() before a room (slot `room`,
// the index in its room table) takes a new history, and appended() before a
// message becomes visible in its ring. When either fails (the disk is full,
// an I/O error), the broker refuses the request with Errc::disk_full and
// changes nothing. key_set() and read_set() record state that is not
// acknowledged to anyone; their failures are counted by the journal only.
// Durability (when the bytes reach the medium) is the platform's business:
// see DiskJournal::sync().
#pragma once

#include "broker/error.h"
#include "broker/history.h"
#include "broker/ring.h"

#include <cstdint>
#include <string_view>

namespace roost {

class Journal {
public:
    virtual ~Journal() = default;
    // Room slot `room` starts the history `epoch` under `name` (lower case).
    [[nodiscard]] virtual Errc room_started(std::uint32_t room, std::string_view name, std::string_view epoch) = 0;
    // Message `seq` of room slot `room`, of class `cls` (people's history or
    // the room's device readings, see broker/history.h): its meta and the
    // `msg` event bytes.
    [[nodiscard]] virtual Errc appended(std::uint32_t room, HistoryClass cls, std::uint64_t seq,
                                        const EntryMeta& meta, std::string_view msg_json) = 0;
    // Nick table entry `nick` is owned by `key` (display form `display`).
    virtual void key_set(std::uint32_t nick, std::string_view display, std::string_view key) = 0;
    // Read mark `mark` of room slot `room`: `nick` has read up to `seq`.
    virtual void read_set(std::uint32_t room, std::uint32_t mark, std::string_view nick, std::uint64_t seq) = 0;
    // Record `index` of table `table` (broker/bots.h: RecordTable, the bots'
    // records and the bridge's cursors) is now `bytes` (record_size of that
    // table).
    virtual void record_saved(std::uint32_t table, std::uint32_t index, std::string_view bytes) = 0;
    // The device store (broker/devices.cpp): device record `index`
    // (Broker::device_record_size bytes; all zero: the slot was cleared),
    // series `s`'s record (16 bytes: device, key, the device's first_ms) and
    // one bucket of it (sizeof(Bucket)), always after its series' record.
    // Failures are the journal's to count.
    virtual void device_saved(std::uint32_t index, std::string_view bytes) {
        (void)index, (void)bytes;
    }
    virtual void series_saved(std::uint32_t s, std::string_view bytes) { (void)s, (void)bytes; }
    virtual void bucket_saved(std::uint32_t s, std::uint32_t archive, std::uint32_t slot, std::string_view bytes) {
        (void)s, (void)archive, (void)slot, (void)bytes;
    }
};

} // namespace roost
