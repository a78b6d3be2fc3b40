// libFuzzer target for start-up from the data directory
// (platform/journal.cpp, broker/restore.cpp, the bots' restore): a real
// broker writes a history (rooms, messages with data and cids, keys, read
// marks, reminders, games, watches, devices with their series) once; each
// input then damages a copy of its history.roost, state.roost,
// readings.roost and devices.roost and a new broker starts from them.
//
// Input: one flags byte, then edits, each `op offset(3 bytes) args`:
//   op & 1       the file (0 history.roost, 1 state.roost), unless
//   op & 8       devices.roost, or
//   op & 16      readings.roost
//   op >> 1 & 3  0: write up to 63 bytes; 1: write a 64-bit integer;
//                2: cut the file there; 3: copy 64 bytes from another offset
// flags & 1: afterwards every checksum is made right again, so the damage
// reads as intact (hostile files, not only torn ones); flags & 2: start
// from empty files instead.
//
// Invariants: open() never crashes, loops or reads out of bounds; when it
// succeeds every room it restored is a valid room whose messages are each a
// whole JSON `msg` of that room and seq, below 2^53; every room then takes a
// post, bots run an hour of timers, and a second start from the files holds
// every room the first held at its end, with its epoch and head, and every
// post the first acknowledged in it. The device store holds only what
// tests/fuzz/device_check.h allows, takes a reading in every room, and the
// second start brings it back exactly as the first left it.
#include "broker/broker.h"
#include "broker/names.h"
#include "broker/reserve.h"
#include "platform/crc32c.h"
#include "platform/journal.h"
#include "tests/fuzz/broker_snapshot.h"
#include "tests/fuzz/device_check.h"
#include "tests/fuzz/json_check.h"

#include <cjson/cJSON.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace roost;

void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_journal: broken invariant: %s\n%s\n", what, detail.substr(0, 2000).c_str());
    std::abort();
}
void check(bool ok, const char* what, const std::string& detail = {}) {
    if (!ok) fail(what, detail);
}

struct NoTransport final : Transport {
    void wake(SessionId) override {}
};

CoreLimits limits() {
    CoreLimits l;
    l.max_rooms = 4;
    l.ring_msgs = 16;
    l.ring_bytes = 4096;
    l.max_nicks = 4;
    l.reads_per_room = 2;
    l.max_reminders = 3;
    l.max_watches = 2;
    l.max_sessions = 4;
    l.max_text = 200;
    l.max_frame = 1024;
    l.max_body = 1024;
    l.max_data_keys = 2;
    l.max_data_string = 16;
    l.max_cid = 16;
    l.max_key = 16;
    l.msg_rate = 1000;
    l.msg_burst = 1000;
    l.max_devices = 3;
    l.keys_per_device = 3;
    l.max_series = 4;
    const char* why = nullptr;
    if (!parse_archives("1m:5m,5m:30m", l.archives, why)) std::abort();
    return l;
}

// One broker on the files in `dir`.
struct Node {
    CoreLimits lim = limits();
    FakeClock clock{1800000000000ull};
    SplitMix random{7};
    NoTransport transport;
    Broker broker{lim, clock, random, transport};
    DiskJournal journal;
    std::vector<std::string> report;
    std::string why;
    bool ok;
    explicit Node(const std::string& dir) {
        ok = journal.open(dir, journal_geometry(lim), FsyncPolicy::never, broker, report, why);
        if (ok) {
            broker.set_journal(&journal);
            broker.start_bots();
        }
    }
    void frame(SessionId s, const std::string& json) {
        broker.on_frame(s, json.data(), json.size());
        drain(s);
    }
    void drain(SessionId s) {
        Frame f;
        while (broker.next_frame(s, f)) {
            if (std::getenv("ROOST_FUZZ_TRACE") != nullptr) std::fprintf(stderr, "< %.*s\n", static_cast<int>(f.len), f.data);
        }
    }
};

std::string g_dir;
std::string g_history, g_state, g_devices, g_readings; // the files as the first broker left them

std::string read_file(const std::string& path) {
    std::string out;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return out;
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
}

void write_file(const std::string& path, const std::string& bytes) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) fail("cannot write", path);
    std::fclose(f);
}

// The first broker: a bit of everything the files can hold.
void make_history() {
    char dir[] = "/dev/shm/roost-fuzz-journal-XXXXXX";
    char dir_tmp[] = "/tmp/roost-fuzz-journal-XXXXXX";
    const char* made = mkdtemp(dir);
    if (made == nullptr) made = mkdtemp(dir_tmp);
    if (made == nullptr) fail("no temporary directory");
    g_dir = made;
    {
        Node n(g_dir);
        check(n.ok, "the first broker starts", n.why);
        const std::uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
        const SessionId a = n.broker.open_session(addr), b = n.broker.open_session(addr);
        n.frame(a, R"({"type":"hello","nick":"Ann","key":"annsecretkey0001"})");
        n.frame(b, R"({"type":"hello","nick":"bob"})");
        for (const char* room : {"kitchen", "garden"}) {
            n.frame(a, std::string(R"({"type":"join","room":")") + room + "\"}");
            n.frame(b, std::string(R"({"type":"join","room":")") + room + "\"}");
        }
        for (int i = 0; i < 40; ++i) {
            PostResult r;
            const std::string text = "reading " + std::to_string(i);
            (void)n.broker.post(i % 2 ? "kitchen" : "garden", "sensor", MsgKind::device, text,
                                R"({"t":21.5,"s":"ok"})", i % 3 ? "" : "c" + std::to_string(i), r);
            n.clock.advance(1000);
            n.drain(a);
            n.drain(b);
            if (i % 4 == 0) {
                (void)n.broker.post("garden", "Meter", MsgKind::device, "",
                                    i % 8 ? R"({"kwh":1.5e3,"v":-2})" : R"({"kwh":12,"on":true})", "", r);
                n.clock.advance(45000);
            }
        }
        n.frame(a, R"({"type":"say","room":"kitchen","text":"hello \u00e9","cid":"x1"})");
        n.frame(a, R"({"type":"read","room":"kitchen","seq":3})");
        n.frame(b, R"({"type":"read","room":"garden","seq":2})");
        n.frame(a, R"({"type":"say","room":"kitchen","text":"/remind in 10m water the plants"})");
        n.frame(a, R"({"type":"say","room":"kitchen","text":"/watch kitchen t > 30"})");
        n.frame(b, R"({"type":"say","room":"garden","text":"/hangman start"})");
        n.frame(b, R"({"type":"say","room":"garden","text":"/guess e"})");
        n.frame(a, R"({"type":"say","room":"garden","text":"/wordle"})");
        n.frame(a, R"({"type":"say","room":"garden","text":"/w crane"})");
        n.frame(a, R"({"type":"dm","to":"bob","text":"psst"})");
        n.broker.close_session(a);
        n.broker.close_session(b);
        check(n.journal.sync(), "the first broker syncs");
    }
    g_history = read_file(g_dir + "/history.roost");
    g_state = read_file(g_dir + "/state.roost");
    g_devices = read_file(g_dir + "/devices.roost");
    g_readings = read_file(g_dir + "/readings.roost");
    check(g_history.size() > 4096 && g_state.size() > 4096 && g_devices.size() > 4096,
          "the first broker wrote its files");
}

// --- the layout (platform/journal.h), to make checksums right again -------
constexpr std::size_t kFileHeader = 4096, kHeaderCopy = 2048, kSlotHeader = 256, kSlotCopy = 128, kAlign = 32;
constexpr std::size_t kRecHeader = 44;
constexpr std::uint32_t kRecMagic = 0x014D52F7u;

std::uint32_t get32(const std::string& f, std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, f.data() + at, 4);
    return v;
}
void put32(std::string& f, std::size_t at, std::uint32_t v) { std::memcpy(&f[at], &v, 4); }

void fix_file_header(std::string& f) {
    for (std::size_t at : {std::size_t{0}, kHeaderCopy}) {
        if (at + 52 <= f.size()) put32(f, at + 48, crc32c(0, f.data() + at, 48));
    }
}

// Records in an area [r, end): each made right again.
void fix_records(std::string& f, std::size_t r, std::size_t end) {
    while (r + kRecHeader <= end) {
        const std::uint32_t len = get32(f, r + 4);
        if (get32(f, r) != kRecMagic || len == 0 || r + kRecHeader + len > end) {
            r += kAlign;
            continue;
        }
        put32(f, r + 40, crc32c(crc32c(0, f.data() + r, 40), f.data() + r + kRecHeader, len));
        r += (kRecHeader + len + kAlign - 1) / kAlign * kAlign;
    }
}

void fix_history(std::string& f) {
    fix_file_header(f);
    const CoreLimits l = limits();
    const std::size_t slot = kSlotHeader + (std::size_t{l.ring_bytes} * 2 + kAlign - 1) / kAlign * kAlign;
    for (std::size_t s = kFileHeader; s + kSlotHeader <= f.size(); s += slot) {
        for (std::size_t c : {s, s + kSlotCopy}) {
            if (c + 72 <= f.size()) put32(f, c + 4, crc32c(0, f.data() + c + 8, 64));
        }
        fix_records(f, s + kSlotHeader, std::min(s + slot, f.size()));
    }
}

// readings.roost: a record area per room slot, no slot headers.
void fix_readings(std::string& f) {
    fix_file_header(f);
    const std::size_t area = (std::size_t{device_ring_size(limits())} * 2 + kAlign - 1) / kAlign * kAlign;
    for (std::size_t s = kFileHeader; s < f.size(); s += area) fix_records(f, s, std::min(s + area, f.size()));
}

// state.roost: every record copy is magic | crc (of the rest) | ...; the
// tables follow each other in fixed sizes (nicks, read marks, bot tables).
void fix_state(std::string& f) {
    fix_file_header(f);
    const CoreLimits l = limits();
    struct Table {
        std::size_t count, size;
    };
    const std::size_t nick = (43 + std::size_t{l.max_key} + 63) / 64 * 64;
    auto bot = [](RecordTable t) { return (16 + record_size(t) + 63) / 64 * 64; };
    const Table tables[] = {{l.max_nicks, nick},
                            {std::size_t{l.max_rooms} * l.reads_per_room, 64},
                            {l.max_reminders, bot(RecordTable::reminders)},
                            {l.max_watches, bot(RecordTable::watches)},
                            {l.max_rooms, bot(RecordTable::rooms)},
                            {l.max_rooms, bot(RecordTable::bridge)}};
    std::size_t at = kFileHeader;
    for (const Table& t : tables) {
        for (std::size_t k = 0; k < t.count * 2; ++k, at += t.size) {
            if (at + t.size <= f.size() && get32(f, at) != 0) put32(f, at + 4, crc32c(0, f.data() + at + 8, t.size - 8));
        }
    }
}

// devices.roost (platform/journal_devices.cpp): the header's crc at 80,
// device and series copies magic | crc (of the rest) | ..., buckets
// crc (of the rest) | ... unless all zero.
void fix_devices(std::string& f) {
    for (std::size_t at : {std::size_t{0}, kHeaderCopy}) {
        if (at + 84 <= f.size()) put32(f, at + 80, crc32c(0, f.data() + at, 80));
    }
    const CoreLimits l = limits();
    const std::size_t dev = (16 + Broker::device_record_size(l) + 63) / 64 * 64;
    std::size_t at = kFileHeader;
    for (std::size_t k = 0; k < std::size_t{l.max_devices} * 2; ++k, at += dev) {
        if (at + dev <= f.size() && get32(f, at) != 0) put32(f, at + 4, crc32c(0, f.data() + at + 8, dev - 8));
    }
    for (std::size_t k = 0; k < std::size_t{l.max_series} * 2; ++k, at += 64) {
        if (at + 64 <= f.size() && get32(f, at) != 0) put32(f, at + 4, crc32c(0, f.data() + at + 8, 56));
    }
    for (; at + 32 <= f.size(); at += 32) {
        if (f.compare(at, 32, std::string(32, '\0')) != 0) put32(f, at, crc32c(0, f.data() + at + 4, 28));
    }
}

// --- what a restored broker must hold ------------------------------------
void check_rooms(const Broker& b) {
    for (std::uint32_t i = 0; i < b.room_slots(); ++i) {
        const Room& r = b.room(i);
        if (!r.used) continue;
        DmNicks nicks;
        const std::string name(r.name.view());
        check(room_name_valid(r.name.view()) || parse_dm_room_name(r.name.view(), nicks), "a restored room's name",
              name);
        check(std::strlen(r.epoch) == kEpochLen, "a restored room's epoch", name);
        const std::uint64_t head = r.history->head(), oldest = r.history->oldest();
        check(head < (1ull << 53) && oldest >= 1 && oldest <= head + 1, "a restored room's seqs",
              name + " " + std::to_string(oldest) + ".." + std::to_string(head));
        // Every seq held (readings that left their ring are skipped).
        for (std::uint64_t seq = r.history->next(oldest); seq <= head; seq = r.history->next(seq + 1)) {
            const char* data = nullptr;
            std::uint32_t len = 0;
            check(r.history->get(seq, data, len), "a restored message is held", name);
            const std::string_view msg(data, len);
            check(fuzz::json_object(msg), "a restored message is one JSON object", std::string(msg));
            cJSON* m = cJSON_ParseWithLength(data, len);
            const cJSON* room = cJSON_GetObjectItemCaseSensitive(m, "room");
            const cJSON* s = cJSON_GetObjectItemCaseSensitive(m, "seq");
            const cJSON* type = cJSON_GetObjectItemCaseSensitive(m, "type");
            const bool ok = cJSON_IsString(type) && std::strcmp(type->valuestring, "msg") == 0 &&
                            cJSON_IsString(room) && name == room->valuestring && cJSON_IsNumber(s) &&
                            s->valuedouble == static_cast<double>(seq);
            cJSON_Delete(m);
            check(ok, "a restored message is the msg of its room and seq", name + " " + std::to_string(seq) + " " +
                                                                              std::string(msg));
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    make_history();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    std::string files[4] = {g_history, g_state, g_devices, g_readings};
    if (flags & 2) {
        for (std::string& f : files) f.assign(f.size(), '\0');
    }
    auto u24 = [&](std::size_t at) {
        return static_cast<std::size_t>(data[at]) | static_cast<std::size_t>(data[at + 1]) << 8 |
               static_cast<std::size_t>(data[at + 2]) << 16;
    };
    for (std::size_t i = 1; i + 4 <= size;) {
        const std::uint8_t op = data[i];
        std::string& f = files[op & 16 ? 3 : op & 8 ? 2 : op & 1];
        const std::size_t off = f.empty() ? 0 : u24(i + 1) % f.size();
        i += 4;
        switch ((op >> 1) & 3) {
        case 0: {
            const std::size_t n = i < size ? std::min<std::size_t>(data[i] & 63, size - i - 1) : 0;
            if (i < size) ++i;
            for (std::size_t k = 0; k < n && off + k < f.size(); ++k) f[off + k] = static_cast<char>(data[i + k]);
            i += n;
            break;
        }
        case 1: {
            std::uint64_t v = 0;
            for (std::size_t k = 0; k < 8 && i < size; ++k, ++i) v |= std::uint64_t{data[i]} << (8 * k);
            for (std::size_t k = 0; k < 8 && off + k < f.size(); ++k) f[off + k] = static_cast<char>(v >> (8 * k));
            break;
        }
        case 2:
            f.resize(off);
            break;
        case 3: {
            std::size_t from = 0;
            if (i + 3 <= size && !f.empty()) from = u24(i) % f.size();
            i += 3;
            for (std::size_t k = 0; k < 64 && off + k < f.size() && from + k < f.size(); ++k) f[off + k] = f[from + k];
            break;
        }
        }
    }
    if (flags & 1) {
        fix_history(files[0]);
        fix_state(files[1]);
        fix_devices(files[2]);
        fix_readings(files[3]);
    }
    write_file(g_dir + "/history.roost", files[0]);
    write_file(g_dir + "/state.roost", files[1]);
    write_file(g_dir + "/devices.roost", files[2]);
    write_file(g_dir + "/readings.roost", files[3]);
    if (const char* keep = std::getenv("ROOST_FUZZ_KEEP")) { // replaying: the files as damaged, for a look
        write_file(std::string(keep) + "/history.roost", files[0]);
        write_file(std::string(keep) + "/state.roost", files[1]);
        write_file(std::string(keep) + "/devices.roost", files[2]);
        write_file(std::string(keep) + "/readings.roost", files[3]);
    }

    // What the first broker held at its end (a room recycled for a new one
    // meanwhile, as the bots' answers can make happen, is gone by design).
    fuzz::BrokerState held;
    std::string devices_held;
    std::vector<std::pair<std::string, std::uint64_t>> posted;
    {
        Node n(g_dir);
        if (!n.ok) {
            check(!n.why.empty(), "a refused start says why");
            return 0;
        }
        if (std::getenv("ROOST_FUZZ_TRACE") != nullptr) {
            for (const std::string& line : n.report) std::fprintf(stderr, "first start: %s\n", line.c_str());
        }
        check_rooms(n.broker);
        fuzz::check_device_store(n.broker);
        for (std::uint32_t i = 0; i < n.broker.room_slots(); ++i) {
            const Room& r = n.broker.room(i);
            if (!r.used || r.dm) continue;
            PostResult res;
            const std::string name(r.name.view());
            const Errc e = n.broker.post(name, "probe", MsgKind::device, "after a restart", {}, "probe1", res);
            check(e == Errc::ok || e == Errc::disk_full, "a restored room takes a post", name + " " + errc_code(e));
            if (e == Errc::ok && !res.duplicate) posted.emplace_back(name + "/" + std::string(res.epoch), res.seq);
            // A reading: into the store, whatever it restored. Refused only
            // for a full table (a hostile file may fill it).
            const Errc d = n.broker.post(name, "Meter", MsgKind::device, "", R"({"kwh":7,"v":1,"on":false})", {}, res);
            check(d == Errc::ok || d == Errc::disk_full || d == Errc::server_busy, "a restored room takes a reading",
                  name + " " + errc_code(d));
            fuzz::check_device_store(n.broker);
        }
        for (int k = 0; k < 60; ++k) { // an hour of the bots' timers
            n.clock.advance(60000);
            n.broker.tick();
        }
        check_rooms(n.broker);
        fuzz::check_device_store(n.broker);
        check(n.journal.sync(), "the restored journal syncs");
        held = fuzz::snapshot(n.broker);
        devices_held = fuzz::dump_device_store(n.broker.devices());
    }
    if (const char* keep = std::getenv("ROOST_FUZZ_KEEP")) { // replaying: the files the second start reads
        write_file(std::string(keep) + "/history2.roost", read_file(g_dir + "/history.roost"));
        write_file(std::string(keep) + "/state2.roost", read_file(g_dir + "/state.roost"));
    }
    Node again(g_dir);
    if (std::getenv("ROOST_FUZZ_TRACE") != nullptr) { // replaying an input: what each start reported
        for (const auto& p : posted) std::fprintf(stderr, "posted %s %llu\n", p.first.c_str(), static_cast<unsigned long long>(p.second));
        for (const std::string& line : again.report) std::fprintf(stderr, "second start: %s\n", line.c_str());
    }
    check(again.ok, "a second start after a restored one succeeds", again.why);
    check_rooms(again.broker);
    fuzz::check_device_store(again.broker);
    const std::string devices_back = fuzz::dump_device_store(again.broker.devices());
    check(devices_back == devices_held, "the device store comes back at the next start as the first left it",
          devices_held + "\n---\n" + devices_back);
    // Every room the first broker held comes back with its epoch and head,
    // and every post it acknowledged there with it.
    for (const fuzz::RoomState& r : held) {
        if (!r.used) continue;
        const Room* back = again.broker.find_room(r.name);
        check(back != nullptr && r.epoch == std::string_view(back->epoch) && back->history->head() == r.head,
              "a room comes back at the next start with its epoch and head", r.name + " " + r.epoch);
        for (const auto& p : posted) {
            if (p.first != r.name + "/" + r.epoch) continue;
            const char* d = nullptr;
            std::uint32_t len = 0;
            check(back->history->get(p.second, d, len) && std::string_view(d, len).find("after a restart") != std::string_view::npos,
                  "a post acknowledged after a restored start is there at the next", p.first);
        }
    }
    return 0;
}
