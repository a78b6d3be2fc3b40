#include "platform/journal.h"

#include "broker/broker.h"
#include "broker/names.h"
#include "broker/reserve.h"
#include "platform/crc32c.h"
#include "platform/journal_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the journal's integers are little-endian");

namespace roost {

namespace {

using namespace journal_file;

constexpr std::uint64_t kSlotHeader = 256;  // two copies of the slot header: at 0 and at 128
constexpr std::size_t kSlotCopy = 128;
constexpr std::uint64_t kAlign = 32;
constexpr std::size_t kRecHeader = 44;
constexpr std::uint32_t kRecMagic = 0x014D52F7u;  // bytes F7 'R' 'M' 01
constexpr std::uint32_t kSlotMagic = 0x544C5352u; // "RSLT"
constexpr std::uint32_t kNickMagic = 0x4B494E52u; // "RNIK"
constexpr std::uint32_t kReadMagic = 0x44415252u; // "RRAD"
constexpr std::uint32_t kBotMagic = 0x544F4252u;  // "RBOT"
constexpr std::size_t kRecordHeader = 16;            // magic | crc | version
constexpr std::size_t kReadRec = 64;
constexpr std::uint32_t kHistoryKind = 1, kStateKind = 2, kReadingsKind = 3;
std::uint64_t align_up(std::uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string mib(std::uint64_t n) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(n) / (1024.0 * 1024.0));
    return b;
}

// File header (64 bytes used of each 2 KiB copy):
//   magic[8] | format u32 | kind u32 | geometry u32 x 8 | crc32c u32 (of the 48 bytes before it)
constexpr std::size_t kGeo = 8;
void encode_file_header(char* h, std::uint32_t kind, const std::uint32_t geo[kGeo]) {
    std::memset(h, 0, 64);
    std::memcpy(h, kFileMagic, 8);
    put32(h + 8, DiskJournal::kFormat);
    put32(h + 12, kind);
    for (std::size_t i = 0; i < kGeo; ++i) put32(h + 16 + 4 * i, geo[i]);
    put32(h + 48, crc32c(0, h, 48));
}

// Slot header copy (history): magic u32 | crc u32 (of bytes 8..72) | gen u64 |
// name_len u8 | name[47] | epoch[8]
constexpr std::size_t kSlotHeaderUsed = 72;
} // namespace

DiskJournal::~DiskJournal() {
    if (history_fd_ >= 0) {
        if (dirty_) fdatasync(history_fd_);
        close(history_fd_);
    }
    if (state_fd_ >= 0) {
        if (dirty_) fdatasync(state_fd_);
        close(state_fd_);
    }
    if (readings_fd_ >= 0) {
        if (dirty_) fdatasync(readings_fd_);
        close(readings_fd_);
    }
    if (devices_fd_ >= 0) {
        if (dirty_) fdatasync(devices_fd_);
        close(devices_fd_);
    }
}

std::uint64_t DiskJournal::slot_off(std::uint32_t room) const { return kFileHeader + room * slot_size_; }

std::uint64_t DiskJournal::nick_off(std::uint32_t nick, std::uint32_t copy) const {
    return kFileHeader + (std::uint64_t{nick} * 2 + copy) * nick_rec_;
}

std::uint64_t DiskJournal::read_off(std::uint32_t room, std::uint32_t mark, std::uint32_t copy) const {
    const std::uint64_t nicks_end = kFileHeader + std::uint64_t{geo_.nicks} * 2 * nick_rec_;
    return nicks_end + ((std::uint64_t{room} * geo_.reads_per_room + mark) * 2 + copy) * kReadRec;
}

std::uint32_t DiskJournal::record_count(std::uint32_t table) const {
    return table == 0 ? geo_.reminders : table == 1 ? geo_.watches : geo_.rooms; // rooms: games and bridge marks
}

// Bot table t's records follow table t - 1's (table 0's follow the read marks).
std::uint64_t DiskJournal::record_off(std::uint32_t table, std::uint32_t index, std::uint32_t copy) const {
    std::uint64_t off = read_off(geo_.rooms, 0, 0);
    for (std::uint32_t t = 0; t < table; ++t) off += std::uint64_t{record_count(t)} * 2 * record_bytes_[t];
    return off + (std::uint64_t{index} * 2 + copy) * (table < kRecordTables ? record_bytes_[table] : 0);
}

// magic u32 | crc u32 (of the rest of the copy) | version u64 | the record's bytes
void DiskJournal::record_saved(std::uint32_t table, std::uint32_t index, std::string_view bytes) {
    if (table >= kRecordTables || index >= record_count(table) ||
        bytes.size() != record_size(static_cast<RecordTable>(table))) {
        return;
    }
    const auto size = static_cast<std::size_t>(record_bytes_[table]);
    char* c = buf_.data();
    std::memset(c, 0, size);
    const std::uint64_t ver = ++record_ver_[table][index];
    put32(c, kBotMagic);
    put64(c + 8, ver);
    std::memcpy(c + kRecordHeader, bytes.data(), bytes.size());
    put32(c + 4, crc32c(0, c + 8, size - 8));
    write_at(state_fd_, c, size, record_off(table, index, static_cast<std::uint32_t>(ver & 1)));
}

bool DiskJournal::open_file(const std::string& path, std::uint32_t kind, const std::uint32_t geo[8],
                            std::uint64_t size, int& fd, bool& fresh, std::vector<std::string>& report,
                            std::string& why, std::uint64_t layout_from) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        why = path + ": " + errno_text(errno);
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        why = path + ": in use by another roost (" + errno_text(errno) + ")";
        return false;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        why = path + ": " + errno_text(errno);
        return false;
    }
    char want[64];
    encode_file_header(want, kind, geo);
    fresh = st.st_size == 0;
    if (!fresh) {
        char h[kFileHeader];
        if (!read_at(fd, h, sizeof h, 0)) {
            why = path + ": " + errno_text(errno);
            return false;
        }
        const char* good = nullptr;
        bool magic_seen = false;
        for (const char* c : {h, h + kHeaderCopy}) {
            if (std::memcmp(c, kFileMagic, 8) != 0) continue;
            magic_seen = true;
            if (get32(c + 48) == crc32c(0, c, 48)) {
                good = c;
                break;
            }
        }
        if (good == nullptr) {
            why = path + (magic_seen ? ": both copies of the header are damaged"
                                     : ": not a Roost journal file (move it away to start a new one)");
            return false;
        }
        if (get32(good + 8) != DiskJournal::kFormat || get32(good + 12) != kind) {
            why = path + ": made by a Roost with journal format " + std::to_string(get32(good + 8)) +
                  "; this one reads format " + std::to_string(DiskJournal::kFormat);
            return false;
        }
        // Words 6 and 7 of state.roost's geometry are the bot records' sizes:
        // a build's layout, not a setting.
        const bool layout_only = layout_from != 0 && std::memcmp(good + 16, want + 16, 4 * 6) == 0;
        if (std::memcmp(good + 16, want + 16, 4 * kGeo) != 0 && !layout_only) {
            why = path + ": made for other sizes (max_rooms, ring_bytes, max_nicks, reads_per_room or max_key " +
                  "changed); restore the settings, or move the file away to start an empty history";
            return false;
        }
        if (std::memcmp(good + 16, want + 16, 4 * kGeo) != 0) {
            // Another version's bot records: emptied (the bytes from
            // layout_from on), the rest kept. The new header below makes it
            // this build's.
            const std::uint64_t end = std::max<std::uint64_t>(size, static_cast<std::uint64_t>(st.st_size));
            static const char zeros[4096] = {};
            for (std::uint64_t off = layout_from; off < end; off += sizeof zeros) {
                if (!write_at(fd, zeros, static_cast<std::size_t>(std::min<std::uint64_t>(sizeof zeros, end - off)), off)) {
                    why = path + ": cannot write: " + errno_text(errno);
                    return false;
                }
            }
            if (static_cast<std::uint64_t>(st.st_size) > size && ftruncate(fd, static_cast<off_t>(size)) != 0) {
                why = path + ": cannot size it to " + std::to_string(size) + " bytes: " + errno_text(errno);
                return false;
            }
            st.st_size = static_cast<off_t>(std::min<std::uint64_t>(end, size));
            report.push_back(path + ": written by a Roost version with another layout of reminders, watches and " +
                             "games; those start empty (nick keys and read marks are kept)");
        }
        if (good != h) {
            report.push_back(path + ": the first copy of the header was damaged; the second was used");
        }
        if (static_cast<std::uint64_t>(st.st_size) < size) {
            report.push_back(path + ": truncated to " + std::to_string(st.st_size) + " of " + std::to_string(size) +
                             " bytes; what is missing reads as empty");
        }
    }
    // Both header copies, every start (a repaired copy, a fresh file).
    char h[kFileHeader] = {};
    std::memcpy(h, want, 64);
    std::memcpy(h + kHeaderCopy, want, 64);
    if (!write_at(fd, h, sizeof h, 0)) {
        why = path + ": cannot write: " + errno_text(errno);
        return false;
    }
    if (static_cast<std::uint64_t>(st.st_size) < size) {
        const int rc = posix_fallocate(fd, 0, static_cast<off_t>(size));
        if (rc != 0) {
            if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
                why = path + ": cannot size it to " + std::to_string(size) + " bytes: " + errno_text(errno);
                return false;
            }
            report.push_back(path + ": could not reserve " + mib(size) + " (" + errno_text(rc) +
                             "); the file is sparse, and posts are refused (507) while the disk is full");
        }
    }
    return true;
}

JournalGeometry journal_geometry(const CoreLimits& l) {
    JournalGeometry g;
    g.rooms = l.max_rooms;
    g.ring_bytes = l.ring_bytes;
    g.device_ring_bytes = device_ring_size(l);
    g.nicks = l.max_nicks;
    g.reads_per_room = l.reads_per_room;
    g.max_key = l.max_key;
    g.reminders = l.max_reminders;
    g.watches = l.max_watches;
    g.max_event = max_event_bytes(l);
    return g;
}

bool DiskJournal::open(const std::string& dir, const JournalGeometry& g, FsyncPolicy policy, Broker& b,
                       std::vector<std::string>& report, std::string& why) {
    geo_ = g;
    policy_ = policy;
    slot_size_ = kSlotHeader + align_up(std::uint64_t{g.ring_bytes} * 2);
    history_size_ = kFileHeader + g.rooms * slot_size_;
    rslot_size_ = align_up(std::uint64_t{g.device_ring_bytes} * 2);
    readings_size_ = kFileHeader + g.rooms * rslot_size_;
    nick_rec_ = static_cast<std::uint32_t>((43 + std::uint64_t{g.max_key} + 63) / 64 * 64);
    for (std::uint32_t t = 0; t < kRecordTables; ++t) {
        record_bytes_[t] = (kRecordHeader + record_size(static_cast<RecordTable>(t)) + 63) / 64 * 64;
    }
    state_size_ = record_off(kRecordTables, 0, 0);
    size_devices(b);
    // The write-back log holds several of the largest writes (a record, a
    // state copy, the file headers), at least 4 MiB: a full log forces an
    // early sync.
    const std::uint64_t largest = std::max<std::uint64_t>(
        {align_up(kRecHeader + g.max_event), nick_rec_, kFileHeader, kSlotHeader, record_bytes_[0], record_bytes_[1],
         record_bytes_[2], record_bytes_[3], device_copy_});
    log_cap_ = static_cast<std::size_t>(std::max<std::uint64_t>(4u << 20, 4 * (largest + 16)));
    log_.reset(new char[log_cap_]); // default-initialized: resident only as far as used
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 && (errno != ENOENT || mkdir(dir.c_str(), 0700) != 0 || stat(dir.c_str(), &st) != 0)) {
        why = dir + ": " + errno_text(errno);
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        why = dir + ": not a directory";
        return false;
    }
    const std::uint32_t hgeo[kGeo] = {g.rooms, static_cast<std::uint32_t>(slot_size_)};
    const std::uint32_t sgeo[kGeo] = {g.nicks,
                                      nick_rec_,
                                      g.rooms,
                                      g.reads_per_room,
                                      g.reminders,
                                      g.watches,
                                      static_cast<std::uint32_t>(sizeof(Reminder) << 16 | sizeof(Watch)),
                                      static_cast<std::uint32_t>(sizeof(RoomBots) << 8 | sizeof(BridgeMark))};
    const std::uint32_t rgeo[kGeo] = {g.rooms, static_cast<std::uint32_t>(rslot_size_)};
    bool hfresh = false, sfresh = false, rfresh = false, dfresh = false;
    if (!open_file(dir + "/history.roost", kHistoryKind, hgeo, history_size_, history_fd_, hfresh, report, why) ||
        !open_file(dir + "/state.roost", kStateKind, sgeo, state_size_, state_fd_, sfresh, report, why,
                   record_off(0, 0, 0)) ||
        !open_file(dir + "/readings.roost", kReadingsKind, rgeo, readings_size_, readings_fd_, rfresh, report, why) ||
        !open_devices(dir, dfresh, report, why)) {
        return false;
    }
    slots_.assign(g.rooms, Slot{});
    nick_ver_.assign(g.nicks, 0);
    read_ver_.assign(std::size_t{g.rooms} * g.reads_per_room, 0);
    for (std::uint32_t t = 0; t < kRecordTables; ++t) record_ver_[t].assign(record_count(t), 0);
    // A slot's worth: at most 256 B + 32 MiB (ring_bytes <= 16 MiB); a
    // readings area is read into its tail. A device record is built in it too.
    buf_.assign(static_cast<std::size_t>(std::max<std::uint64_t>(slot_size_ + rslot_size_, device_copy_)), 0);
    // readings.roost alone (history.roost new) holds no room, but its
    // records' generations must not be given again.
    if (!hfresh || !rfresh) load_history(b, report);
    if (!sfresh) load_state(b, report);
    if (!dfresh) load_devices(b, report); // needs the rooms (their epochs) restored
    if (!sync()) {
        why = dir + ": the disk refuses to sync (" + errno_text(errno) + ")";
        return false;
    }
    return true;
}

namespace {

// One intact record of a room's current generation found in an area.
struct Rec {
    std::uint64_t seq, off;
    std::uint32_t len;
    bool reading;
};

// Every aligned position of area [base, end) of `s`: the intact records of
// generation `gen` go to `recs`; damaged ones of that generation are counted;
// `top_gen` rises to the generation of any intact record (0 matches none).
void scan_area(const char* s, std::uint64_t base, std::uint64_t end, std::uint64_t gen, bool reading,
               std::vector<Rec>& recs, std::uint64_t& damaged, std::uint64_t& newest_end, std::uint64_t& top_gen) {
    // Every aligned position: intact records of this generation. Inside an
    // intact record too: a payload (UTF-8) never holds the magic, and a
    // record whose length covers others (hostile, or written wrong) must not
    // hide them, or their seqs would come back after new messages took them.
    std::uint64_t newest = 0;
    for (std::uint64_t off = base; off + kRecHeader <= end; off += kAlign) {
        const char* r = s + off;
        if (get32(r) != kRecMagic) continue;
        const std::uint32_t len = get32(r + 4);
        const bool fits = len > 0 && off + kRecHeader + len <= end;
        const bool ours = get64(r + 16) == gen;
        if (fits && get32(r + 40) == crc32c(crc32c(0, r, 40), r + kRecHeader, len)) {
            top_gen = std::max(top_gen, get64(r + 16));
            if (ours) {
                recs.push_back({get64(r + 8), off, len, reading});
                if (get64(r + 8) > newest) {
                    newest = get64(r + 8);
                    newest_end = off + align_up(kRecHeader + len);
                }
            }
        } else {
            damaged += ours ? 1 : 0;
        }
    }
}


} // namespace

void DiskJournal::load_history(Broker& b, std::vector<std::string>& report) {
    std::vector<Rec> recs;
    std::uint64_t rooms = 0, messages = 0;
    std::vector<char>& s = buf_;
    char* readings = s.data() + slot_size_; // the slot's readings area, read after its history
    for (std::uint32_t ri = 0; ri < geo_.rooms; ++ri) {
        if (!read_at(history_fd_, s.data(), static_cast<std::size_t>(slot_size_), slot_off(ri))) {
            report.push_back("history.roost: slot " + std::to_string(ri) + ": " + errno_text(errno));
            continue;
        }
        const bool have_readings = rslot_size_ > 0 && read_at(readings_fd_, readings, static_cast<std::size_t>(rslot_size_),
                                                              kFileHeader + ri * rslot_size_);
        // Generations are never given twice: not even those of records a
        // lost or refused slot header leaves behind (a new room taking their
        // generation would adopt them).
        {
            std::uint64_t none = 0, end = 0;
            recs.clear();
            scan_area(s.data(), kSlotHeader, slot_size_, 0, false, recs, none, end, max_gen_);
            if (have_readings) scan_area(readings, 0, rslot_size_, 0, true, recs, none, end, max_gen_);
        }
        // The slot header: the valid copy with the higher generation.
        const char* head = nullptr;
        for (const char* c : {s.data(), s.data() + kSlotCopy}) {
            if (get32(c) == kSlotMagic && get32(c + 4) == crc32c(0, c + 8, kSlotHeaderUsed - 8) &&
                (head == nullptr || get64(c + 8) > get64(head + 8))) {
                head = c;
            }
        }
        if (head == nullptr) {
            if (get32(s.data()) == kSlotMagic || get32(s.data() + kSlotCopy) == kSlotMagic) {
                report.push_back("history.roost: slot " + std::to_string(ri) + ": header damaged; its room is lost");
                ++stats_.damaged;
            }
            continue;
        }
        Slot& slot = slots_[ri];
        slot.gen = get64(head + 8);
        max_gen_ = std::max(max_gen_, slot.gen);
        const std::string_view name(head + 17, std::min<std::size_t>(static_cast<unsigned char>(head[16]), 47));
        const std::string_view epoch(head + 64, kEpochLen);
        if (!b.restore_room(ri, name, epoch)) {
            report.push_back("history.roost: slot " + std::to_string(ri) + ": room '" + std::string(name) +
                             "' cannot be restored (a bad name or epoch, or a duplicate); skipped");
            ++stats_.damaged;
            continue;
        }
        slot.used = true;
        ++rooms;
        recs.clear();
        std::uint64_t damaged = 0, damaged_readings = 0, newest_end = kSlotHeader, newest_reading_end = 0;
        std::uint64_t top = 0;
        scan_area(s.data(), kSlotHeader, slot_size_, slot.gen, false, recs, damaged, newest_end, top);
        if (have_readings) {
            scan_area(readings, 0, rslot_size_, slot.gen, true, recs, damaged_readings, newest_reading_end, top);
        }
        std::sort(recs.begin(), recs.end(), [](const Rec& x, const Rec& y) { return x.seq < y.seq; });
        // A seq missing between intact records is a message of people lost to
        // damage when there are no readings (every seq was people's), or when
        // a record of people was found damaged and the gap is above the oldest
        // reading on disk. Otherwise it is a reading: those the device area
        // let go, or a damaged one, simply stay out of the replay.
        std::uint64_t oldest_reading = UINT64_MAX;
        bool any_reading = false;
        for (const Rec& rec : recs) {
            if (rec.reading) {
                oldest_reading = std::min(oldest_reading, rec.seq);
                any_reading = true;
            }
        }
        damaged += damaged_readings;
        const std::uint64_t damaged_people = damaged - damaged_readings;
        std::uint64_t lost = 0, prev = 0, kept = 0;
        for (const Rec& rec : recs) {
            if (rec.seq == prev) continue; // never written twice; keep the first
            const char* r = (rec.reading ? readings : s.data()) + rec.off;
            const bool gap_is_loss = !any_reading || (damaged_people > 0 && rec.seq > oldest_reading);
            if (prev != 0 && rec.seq > prev + 1 && gap_is_loss) lost += rec.seq - prev - 1;
            if (b.restore_message(ri, rec.reading ? HistoryClass::devices : HistoryClass::people, rec.seq,
                                  EntryMeta{get64(r + 24), get64(r + 32)}, std::string_view(r + kRecHeader, rec.len),
                                  gap_is_loss)) {
                ++messages;
                ++kept;
            } else {
                ++damaged;
            }
            prev = rec.seq;
        }
        slot.wp = newest_end;
        slot.rwp = newest_reading_end;
        if (damaged + lost > 0) {
            stats_.damaged += damaged;
            report.push_back("history.roost: room '" + std::string(name) + "': dropped " + std::to_string(damaged) +
                             " damaged record(s); " + std::to_string(lost) +
                             " seq(s) between intact records are marked lost; kept " + std::to_string(kept));
        }
    }
    report.push_back("history.roost: restored " + std::to_string(rooms) + " room(s), " + std::to_string(messages) +
                     " message(s)");
}

void DiskJournal::load_state(Broker& b, std::vector<std::string>& report) {
    std::uint64_t keys = 0, marks = 0, damaged = 0;
    std::vector<char> rec(std::max<std::size_t>(nick_rec_, kReadRec) * 2);
    // The valid copy with the higher version, or nullptr.
    auto pick = [&](std::uint32_t magic, std::size_t size, std::uint64_t& version) -> const char* {
        const char* best = nullptr;
        for (const char* c : {rec.data(), rec.data() + size}) {
            if (get32(c) == magic) {
                if (get32(c + 4) != crc32c(0, c + 8, size - 8)) {
                    ++damaged;
                } else if (best == nullptr || get64(c + 8) > get64(best + 8)) {
                    best = c;
                }
            }
        }
        version = best != nullptr ? get64(best + 8) : 0;
        return best;
    };
    for (std::uint32_t ni = 0; ni < geo_.nicks; ++ni) {
        if (!read_at(state_fd_, rec.data(), 2 * nick_rec_, nick_off(ni, 0))) continue;
        // magic u32 | crc u32 | version u64 | display_len u8 | display[24] | key_len u16 | key[max_key]
        const char* c = pick(kNickMagic, nick_rec_, nick_ver_[ni]);
        if (c == nullptr) continue;
        const std::size_t dlen = std::min<std::size_t>(static_cast<unsigned char>(c[16]), kNickMax);
        std::uint16_t klen;
        std::memcpy(&klen, c + 41, 2);
        if (klen <= geo_.max_key && b.restore_key(ni, std::string_view(c + 17, dlen), std::string_view(c + 43, klen))) {
            ++keys;
        }
    }
    for (std::uint32_t ri = 0; ri < geo_.rooms; ++ri) {
        if (!slots_[ri].used) continue;
        for (std::uint32_t k = 0; k < geo_.reads_per_room; ++k) {
            if (!read_at(state_fd_, rec.data(), 2 * kReadRec, read_off(ri, k, 0))) continue;
            // magic u32 | crc u32 | version u64 | room gen u64 | seq u64 | nick_len u8 | nick[24]
            std::uint64_t& ver = read_ver_[std::size_t{ri} * geo_.reads_per_room + k];
            const char* c = pick(kReadMagic, kReadRec, ver);
            if (c == nullptr || get64(c + 16) != slots_[ri].gen) continue;
            const std::size_t nlen = std::min<std::size_t>(static_cast<unsigned char>(c[32]), kNickMax);
            if (b.restore_read(ri, k, std::string_view(c + 33, nlen), get64(c + 24))) ++marks;
        }
    }
    std::uint64_t bots = 0;
    for (std::uint32_t t = 0; t < kRecordTables; ++t) {
        const auto size = static_cast<std::size_t>(record_bytes_[t]);
        rec.resize(std::max(rec.size(), 2 * size));
        for (std::uint32_t i = 0; i < record_count(t); ++i) {
            if (!read_at(state_fd_, rec.data(), 2 * size, record_off(t, i, 0))) continue;
            const char* c = pick(kBotMagic, size, record_ver_[t][i]);
            if (c != nullptr &&
                b.restore_record(t, i, std::string_view(c + kRecordHeader, record_size(static_cast<RecordTable>(t))))) {
                ++bots;
            }
        }
    }
    stats_.damaged += damaged;
    report.push_back("state.roost: restored " + std::to_string(keys) + " nick key(s), " + std::to_string(marks) +
                     " read mark(s), " + std::to_string(bots) + " bot record(s)" +
                     (damaged > 0 ? "; " + std::to_string(damaged) + " damaged copies ignored" : ""));
}

Errc DiskJournal::room_started(std::uint32_t room, std::string_view name, std::string_view epoch) {
    if (room >= slots_.size() || name.size() > 47 || epoch.size() != kEpochLen) return Errc::server_busy;
    char h[kSlotHeader] = {};
    put32(h, kSlotMagic);
    put64(h + 8, max_gen_ + 1);
    h[16] = static_cast<char>(name.size());
    std::memcpy(h + 17, name.data(), name.size());
    std::memcpy(h + 64, epoch.data(), kEpochLen);
    put32(h + 4, crc32c(0, h + 8, kSlotHeaderUsed - 8));
    std::memcpy(h + kSlotCopy, h, kSlotCopy);
    if (!write_at(history_fd_, h, sizeof h, slot_off(room))) return Errc::disk_full;
    Slot& s = slots_[room];
    s.used = true;
    s.gen = ++max_gen_;
    s.wp = kSlotHeader;
    s.rwp = 0; // readings of earlier generations are ignored by their gen
    return Errc::ok;
}

Errc DiskJournal::appended(std::uint32_t room, HistoryClass cls, std::uint64_t seq, const EntryMeta& meta,
                          std::string_view msg_json) {
    if (room >= slots_.size() || !slots_[room].used) return Errc::server_busy;
    Slot& s = slots_[room];
    const bool people = cls == HistoryClass::people;
    // people: history.roost, the slot's area after its header; readings:
    // readings.roost, the slot's area. Both circular.
    const std::uint64_t base = people ? kSlotHeader : 0;
    const std::uint64_t end = people ? slot_size_ : rslot_size_;
    std::uint64_t& wp = people ? s.wp : s.rwp;
    const std::uint64_t size = align_up(kRecHeader + msg_json.size());
    if (size > end - base) return Errc::text_too_long;
    if (wp < base || wp + size > end) wp = base; // wrap: overwrite the oldest
    char* r = buf_.data();
    put32(r, kRecMagic);
    put32(r + 4, static_cast<std::uint32_t>(msg_json.size()));
    put64(r + 8, seq);
    put64(r + 16, s.gen);
    put64(r + 24, meta.ts);
    put64(r + 32, meta.cid_key);
    std::memcpy(r + kRecHeader, msg_json.data(), msg_json.size());
    put32(r + 40, crc32c(crc32c(0, r, 40), r + kRecHeader, msg_json.size()));
    const auto n = static_cast<std::size_t>(size); // below the area's size, which fits buf_
    std::memset(r + kRecHeader + msg_json.size(), 0, n - kRecHeader - msg_json.size());
    const bool ok = people ? write_at(history_fd_, r, n, slot_off(room) + wp)
                           : write_at(readings_fd_, r, n, kFileHeader + room * rslot_size_ + wp);
    if (!ok) return Errc::disk_full;
    wp += size;
    ++stats_.records;
    return Errc::ok;
}

void DiskJournal::key_set(std::uint32_t nick, std::string_view display, std::string_view key) {
    if (nick >= nick_ver_.size() || display.size() > kNickMax || key.size() > geo_.max_key) return;
    char* c = buf_.data();
    std::memset(c, 0, nick_rec_);
    const std::uint64_t ver = ++nick_ver_[nick];
    put32(c, kNickMagic);
    put64(c + 8, ver);
    c[16] = static_cast<char>(display.size());
    std::memcpy(c + 17, display.data(), display.size());
    const auto klen = static_cast<std::uint16_t>(key.size());
    std::memcpy(c + 41, &klen, 2);
    std::memcpy(c + 43, key.data(), key.size());
    put32(c + 4, crc32c(0, c + 8, nick_rec_ - 8));
    write_at(state_fd_, c, nick_rec_, nick_off(nick, static_cast<std::uint32_t>(ver & 1)));
}

void DiskJournal::read_set(std::uint32_t room, std::uint32_t mark, std::string_view nick, std::uint64_t seq) {
    if (room >= slots_.size() || mark >= geo_.reads_per_room || nick.size() > kNickMax) return;
    char c[kReadRec] = {};
    const std::uint64_t ver = ++read_ver_[std::size_t{room} * geo_.reads_per_room + mark];
    put32(c, kReadMagic);
    put64(c + 8, ver);
    put64(c + 16, slots_[room].gen);
    put64(c + 24, seq);
    c[32] = static_cast<char>(nick.size());
    std::memcpy(c + 33, nick.data(), nick.size());
    put32(c + 4, crc32c(0, c + 8, kReadRec - 8));
    write_at(state_fd_, c, kReadRec, read_off(room, mark, static_cast<std::uint32_t>(ver & 1)));
}

} // namespace roost
