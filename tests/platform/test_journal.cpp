// Tests for platform/journal.cpp (and crc32c.cpp): a broker writes through a
// DiskJournal into a temporary directory, a second broker is rebuilt from
// the files, and both are compared; then the files are damaged on purpose.
#include "broker/broker.h"
#include "broker/reserve.h"
#include "platform/crc32c.h"
#include "platform/journal.h"
#include "tests/support/journal_fixture.h"
#include "tests/support/unit.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <sys/file.h>
#include <unistd.h>

namespace {

using roost::Broker;
using roost::DiskJournal;
using roost::Errc;

roost::CoreLimits small_limits() {
    roost::CoreLimits l;
    l.max_rooms = 3;
    l.ring_msgs = 64;
    l.ring_bytes = 8 * 1024;
    l.max_nicks = 8;
    l.reads_per_room = 4;
    return l;
}

// One broker with its journal in `dir`.
struct Node : roost_test::JournalFixture {
    explicit Node(const std::string& dir, roost::CoreLimits l = small_limits()) : JournalFixture(dir, l) {}
    roost::PostResult post(const std::string& room, const std::string& text, const std::string& cid = "") {
        roost::PostResult r;
        // People's history (history.roost); readings go to readings.roost.
        const Errc e = broker->post(room, "dev", roost::MsgKind::chat, text, {}, cid, r);
        assert_int_equal(static_cast<int>(e), static_cast<int>(Errc::ok));
        clock.advance(1);
        return r;
    }
    std::string msg(const std::string& room, std::uint64_t seq) const {
        const roost::Room* r = broker->find_room(room);
        const char* data = nullptr;
        std::uint32_t len = 0;
        if (r == nullptr || !r->history->get(seq, data, len)) return {};
        return {data, len};
    }
};

// Rewrites the u32 at `off` of a .roost file's header as `change` says, in
// both copies, with the checksum made right again (a header another build
// wrote, not a damaged one).
template <typename Change>
void rewrite_header(const std::string& path, long off, Change change) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    char h[64];
    f.read(h, 64);
    std::uint32_t v = 0;
    std::memcpy(&v, h + off, 4);
    v = change(v);
    std::memcpy(h + off, &v, 4);
    const std::uint32_t crc = roost::crc32c(0, h, 48);
    std::memcpy(h + 48, &crc, 4);
    f.seekp(0);
    f.write(h, 64);
    f.seekp(2048);
    f.write(h, 64);
}

// Whether a hello as "ann" with another key is refused (nick_taken): the
// key stored for Ann still owns the name.
bool ann_is_taken(Node& n) {
    const std::uint8_t addr[16] = {};
    const roost::SessionId s = n.broker->open_session(addr);
    n.send(s, R"({"type":"hello","nick":"ann","key":"another-key-0123456789"})");
    roost::Frame f;
    const bool taken = n.broker->next_frame(s, f) && std::string(f.data, f.len).find("nick_taken") != std::string::npos;
    n.broker->close_session(s);
    return taken;
}

std::string temp_dir() {
    char t[] = "/tmp/roost-journal-XXXXXX";
    assert_non_null(mkdtemp(t));
    return t;
}

void remove_dir(const std::string& d) {
    unlink((d + "/history.roost").c_str());
    unlink((d + "/state.roost").c_str());
    unlink((d + "/readings.roost").c_str());
    rmdir(d.c_str());
}

// Offset in history.roost of the record holding `seq` of the room in slot 0.
long record_offset(const std::string& dir, std::uint64_t seq) {
    std::ifstream f(dir + "/history.roost", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const unsigned char magic[4] = {0xF7, 0x52, 0x4D, 0x01};
    for (std::size_t off = 4096 + 256; off + 44 < all.size(); off += 32) {
        std::uint64_t s = 0;
        std::memcpy(&s, all.data() + off + 8, 8);
        if (std::memcmp(all.data() + off, magic, 4) == 0 && s == seq) return static_cast<long>(off);
    }
    fail_msg("no record for seq %llu", static_cast<unsigned long long>(seq));
    return -1;
}

// The payload length of the record at `off`.
std::uint32_t b_len(const std::string& dir, long off) {
    std::ifstream f(dir + "/history.roost", std::ios::binary);
    f.seekg(off + 4);
    std::uint32_t len = 0;
    f.read(reinterpret_cast<char*>(&len), 4);
    return len;
}

void poke(const std::string& path, long off, const std::string& bytes) {
    const int fd = open(path.c_str(), O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes.data(), bytes.size(), off), static_cast<ssize_t>(bytes.size()));
    close(fd);
}

void crc32c_known_values(void**) {
    assert_int_equal(roost::crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(roost::crc32c(0, "", 0), 0u);
    // Continuing a CRC over two pieces equals one pass over both.
    assert_int_equal(roost::crc32c(roost::crc32c(0, "12345", 5), "6789", 4), 0xE3069283u);
    const std::string zeros(32, '\0');
    assert_int_equal(roost::crc32c(0, zeros.data(), zeros.size()), 0x8A9136AAu); // RFC 3720 B.4
}

// Everything the broker held comes back byte for byte, with its epoch,
// after the ring wrapped on disk several times; keys and read marks too.
void restart_restores_history_keys_and_reads(void**) {
    const std::string dir = temp_dir();
    std::string epoch;
    std::vector<std::string> held;
    std::uint64_t head = 0, oldest = 0;
    {
        Node a(dir);
        assert_true(a.ok);
        for (int i = 0; i < 400; ++i) { // 8 KiB ring, 16 KiB on disk: wraps many times
            a.post(i % 3 == 0 ? "b" : "a", "message number " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 50), 'x'),
                   "cid" + std::to_string(i));
        }
        const roost::Room* r = a.broker->find_room("a");
        epoch.assign(r->epoch);
        head = r->history->head();
        oldest = r->history->oldest();
        for (std::uint64_t s = oldest; s <= head; ++s) held.push_back(a.msg("a", s));
        // A key and a read mark.
        const std::uint8_t addr[16] = {};
        const roost::SessionId s = a.broker->open_session(addr);
        const std::string hello = R"({"type":"hello","nick":"Ann","key":"secret-key-0123456789"})";
        a.broker->on_frame(s, hello.data(), hello.size());
        const std::string join = R"({"type":"join","room":"a"})";
        a.broker->on_frame(s, join.data(), join.size());
        const std::string read = R"({"type":"read","room":"a","seq":)" + std::to_string(head) + "}";
        a.broker->on_frame(s, read.data(), read.size());
        a.broker->close_session(s);
        assert_true(a.journal->stats().records == 400);
    }
    Node b(dir);
    assert_true(b.ok);
    const roost::Room* r = b.broker->find_room("a");
    assert_non_null(r);
    assert_string_equal(r->epoch, epoch.c_str());
    assert_int_equal(r->history->head(), head);
    // The ring is rebuilt from the disk's oldest record on, so its entries
    // pack from another arena offset than before: it may hold one more or
    // one fewer of the oldest. Everything from there on is byte for byte.
    assert_true(r->history->oldest() + 1 >= oldest && r->history->oldest() <= oldest + 1);
    for (std::uint64_t s = std::max(oldest, r->history->oldest()); s <= head; ++s) {
        assert_string_equal(b.msg("a", s).c_str(), held[static_cast<std::size_t>(s - oldest)].c_str());
    }
    assert_non_null(b.broker->find_room("b"));
    assert_int_equal(r->reads[0].seq, head);
    assert_string_equal(r->reads[0].nick.view().data(), "Ann");
    // The key still owns the nick; a retry of a stored cid stores nothing.
    assert_true(ann_is_taken(b));
    roost::PostResult again;
    assert_int_equal(static_cast<int>(b.broker->post("a", "dev", roost::MsgKind::chat, "x", {}, "cid398", again)),
                     static_cast<int>(Errc::ok));
    assert_true(again.duplicate); // message 398 went to "a" and is its newest
    assert_int_equal(again.seq, head);
    // New messages continue the same history after the newest record.
    const roost::PostResult next = b.post("a", "after the restart");
    assert_int_equal(next.seq, head + 1);
    remove_dir(dir);
}

// A torn last record is cut; one flipped bit in the middle becomes a
// "lost" system message at its seq; both are reported; the rest is kept.
void damage_is_cut_and_reported(void**) {
    const std::string dir = temp_dir();
    {
        Node a(dir);
        for (int i = 1; i <= 20; ++i) a.post("a", "m" + std::to_string(i));
    }
    poke(dir + "/history.roost", record_offset(dir, 20) + 50, "garbage!");  // torn tail
    poke(dir + "/history.roost", record_offset(dir, 7) + 46, "X");          // one flipped byte
    {
        Node b(dir);
        assert_true(b.ok);
        const std::string rep = b.reported();
        assert_non_null(std::strstr(rep.c_str(), "dropped 2 damaged record(s)"));
        assert_non_null(std::strstr(rep.c_str(), "1 seq(s) between intact records are marked lost"));
        const roost::Room* r = b.broker->find_room("a");
        assert_int_equal(r->history->head(), 19);
        assert_int_equal(r->history->oldest(), 1);
        assert_non_null(std::strstr(b.msg("a", 7).c_str(), "\"kind\":\"system\""));
        assert_non_null(std::strstr(b.msg("a", 7).c_str(), "was lost"));
        assert_non_null(std::strstr(b.msg("a", 8).c_str(), "\"text\":\"m8\""));
        assert_int_equal(b.journal->stats().damaged, 2);
        // The torn record's place is reused by the next message.
        assert_int_equal(b.post("a", "m20 again").seq, 20);
    }
    Node c(dir);
    assert_non_null(std::strstr(c.msg("a", 20).c_str(), "m20 again"));
    remove_dir(dir);
}

// Rewrites the record at `off`: its length, and a checksum that holds.
void forge_record(const std::string& path, long off, std::uint32_t len) {
    std::ifstream f(path, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto at = static_cast<std::size_t>(off);
    std::memcpy(&all[at + 4], &len, 4);
    const std::uint32_t crc = roost::crc32c(roost::crc32c(0, all.data() + at, 40), all.data() + at + 44, len);
    std::memcpy(&all[at + 40], &crc, 4);
    poke(path, off, all.substr(at, 44 + len));
}

// Found by fuzz_journal: records whose checksum holds but that no broker
// wrote. One whose length covers the records after it hid them at start-up
// (the scan jumped over it), so the next post took a seq they held, and
// at the following start they came back and pushed that post out. One
// that is not a msg of its room (or its seq) was skipped, so its seq was
// given again. Now every record is found, and a refused one keeps its seq
// as a lost message.
void forged_records_neither_hide_others_nor_free_their_seq(void**) {
    const std::string dir = temp_dir();
    const std::string path = dir + "/history.roost";
    {
        Node a(dir);
        for (int i = 1; i <= 10; ++i) a.post("a", "m" + std::to_string(i));
    }
    const long first = record_offset(dir, 1), last = record_offset(dir, 10);
    poke(path, last + 44 + 21, "b"); // "room":"b": not its room
    forge_record(path, last, b_len(dir, last));
    forge_record(path, first, static_cast<std::uint32_t>(last + 64 - first - 44)); // covers 2..10
    {
        Node b(dir);
        assert_true(b.ok);
        const roost::Room* r = b.broker->find_room("a");
        assert_int_equal(r->history->head(), 10);
        assert_non_null(std::strstr(b.msg("a", 1).c_str(), "was lost"));
        assert_non_null(std::strstr(b.msg("a", 5).c_str(), "\"text\":\"m5\""));
        assert_non_null(std::strstr(b.msg("a", 10).c_str(), "was lost"));
        assert_non_null(std::strstr(b.reported().c_str(), "dropped 2 damaged record(s)"));
        assert_int_equal(b.post("a", "after the forgery").seq, 11);
    }
    Node c(dir);
    assert_true(c.ok);
    assert_int_equal(c.broker->find_room("a")->history->head(), 11);
    assert_non_null(std::strstr(c.msg("a", 11).c_str(), "after the forgery"));
    assert_non_null(std::strstr(c.msg("a", 9).c_str(), "\"text\":\"m9\""));
    remove_dir(dir);
}

// A truncated file keeps what is left; a damaged first header copy falls
// back to the second.
void truncation_and_header_copies(void**) {
    const std::string dir = temp_dir();
    {
        Node a(dir);
        for (int i = 1; i <= 10; ++i) a.post("a", "m" + std::to_string(i));
        for (int i = 1; i <= 10; ++i) a.post("b", "n" + std::to_string(i));
    }
    const long cut = record_offset(dir, 6) + 10; // inside room a's 6th record (slot 0)
    assert_int_equal(truncate((dir + "/history.roost").c_str(), cut), 0);
    poke(dir + "/history.roost", 3, "?");
    Node b(dir);
    assert_true(b.ok);
    const std::string rep = b.reported();
    assert_non_null(std::strstr(rep.c_str(), "truncated"));
    assert_non_null(std::strstr(rep.c_str(), "the second was used"));
    assert_int_equal(b.broker->find_room("a")->history->head(), 5);
    assert_null(b.broker->find_room("b")); // its slot was past the cut
    assert_int_equal(b.post("b", "new").seq, 1);
    remove_dir(dir);
}

// Files the broker must not start with: exit code 2 material.
void refuses_foreign_future_resized_and_locked_files(void**) {
    const std::string dir = temp_dir();
    { Node a(dir); a.post("a", "x"); }
    {
        Node other(dir, [] { auto l = small_limits(); l.max_rooms = 4; return l; }());
        assert_false(other.ok);
        assert_non_null(std::strstr(other.why.c_str(), "made for other sizes"));
    }
    {
        Node first(dir);
        assert_true(first.ok);
        Node second(dir);
        assert_false(second.ok);
        assert_non_null(std::strstr(second.why.c_str(), "in use by another roost"));
    }
    // A newer format: the header says format 2 (CRC fixed up, both copies).
    rewrite_header(dir + "/history.roost", 8, [](std::uint32_t) { return 2u; });
    {
        Node newer(dir);
        assert_false(newer.ok);
        assert_non_null(std::strstr(newer.why.c_str(), "format 2; this one reads format 1"));
    }
    poke(dir + "/history.roost", 0, std::string(4096, 'z'));
    {
        Node foreign(dir);
        assert_false(foreign.ok);
        assert_non_null(std::strstr(foreign.why.c_str(), "not a Roost journal file"));
    }
    remove_dir(dir);
    {
        Node not_dir("/dev/null");
        assert_false(not_dir.ok);
        assert_non_null(std::strstr(not_dir.why.c_str(), "not a directory"));
    }
}

// state.roost written by a build whose bot records have another size (an
// upgrade that changed a watch): its nick keys and read marks are kept, its
// bot records start empty, and that is said; other sizes are still refused.
void another_bot_layout_keeps_keys_and_reads(void**) {
    const std::string dir = temp_dir();
    std::uint64_t head = 0;
    {
        Node a(dir);
        assert_true(a.ok);
        head = a.post("a", "hello").seq;
        const std::uint8_t addr[16] = {};
        const roost::SessionId s = a.broker->open_session(addr);
        for (const std::string f : {R"({"type":"hello","nick":"Ann","key":"secret-key-0123456789"})",
                                    R"({"type":"join","room":"a"})", R"({"type":"read","room":"a","seq":1})"}) {
            a.broker->on_frame(s, f.data(), f.size());
        }
        a.broker->close_session(s);
    }
    const std::string path = dir + "/state.roost";
    std::size_t size = 0;
    {
        // Word 6 of the geometry (the reminder and watch record sizes) as
        // another build writes it, both header copies; the last KiB (bot
        // records) written with what that build would leave there.
        rewrite_header(path, 16 + 4 * 6, [](std::uint32_t w) { return w + 8; });
        std::ifstream f(path, std::ios::binary);
        f.seekg(0, std::ios::end);
        size = static_cast<std::size_t>(f.tellg());
    }
    poke(path, static_cast<long>(size - 1024), std::string(1024, '\xff'));
    {
        Node b(dir);
        assert_true(b.ok);
        assert_non_null(std::strstr(b.reported().c_str(), "another layout of reminders, watches and games"));
        const roost::Room* r = b.broker->find_room("a");
        assert_non_null(r);
        assert_int_equal(r->history->head(), head);
        assert_int_equal(r->reads[0].seq, 1);
        assert_true(ann_is_taken(b));
    }
    {
        std::ifstream f(path, std::ios::binary);
        std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        assert_int_equal(all.size(), size);
        assert_true(all.substr(size - 1024) == std::string(1024, '\0'));
    }
    {
        // Now this build's: opened again without a word.
        Node c(dir);
        assert_true(c.ok);
        assert_null(std::strstr(c.reported().c_str(), "another layout"));
    }
    {
        Node other(dir, [] { auto l = small_limits(); l.max_nicks = 9; return l; }());
        assert_false(other.ok);
        assert_non_null(std::strstr(other.why.c_str(), "made for other sizes"));
    }
    remove_dir(dir);
}

// A recycled room slot starts a new generation: the old room's records and
// read marks do not come back under the new name.
void recycled_slot_forgets_the_old_room(void**) {
    const std::string dir = temp_dir();
    std::string epoch_d;
    {
        Node a(dir);
        a.post("a", "in a");
        a.post("b", "in b");
        a.post("c", "in c");
        a.clock.advance(1000);
        a.post("b", "b again");
        a.post("c", "c again");
        a.post("d", "in d"); // every slot is used: "a" (idle longest) is recycled
        assert_null(a.broker->find_room("a"));
        epoch_d.assign(a.broker->find_room("d")->epoch);
    }
    Node b(dir);
    assert_null(b.broker->find_room("a"));
    const roost::Room* d = b.broker->find_room("d");
    assert_non_null(d);
    assert_string_equal(d->epoch, epoch_d.c_str());
    assert_int_equal(d->history->head(), 1);
    assert_non_null(std::strstr(b.msg("d", 1).c_str(), "in d"));
    assert_int_equal(b.broker->find_room("b")->history->head(), 2);
    remove_dir(dir);
}

} // namespace

int refuse_sync(int) {
    errno = EIO;
    return -1;
}

// Zeroes every copy of `text` in the file, as a disk that lost the pages
// of a failed write would.
void lose(const std::string& path, const std::string& text) {
    const int fd = open(path.c_str(), O_RDWR);
    assert_true(fd >= 0);
    std::string all(static_cast<std::size_t>(lseek(fd, 0, SEEK_END)), '\0');
    assert_int_equal(pread(fd, all.data(), all.size(), 0), static_cast<ssize_t>(all.size()));
    int hits = 0;
    for (std::size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1), ++hits) {
        const std::string zeros(text.size(), '\0');
        assert_int_equal(pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(at)), static_cast<ssize_t>(zeros.size()));
    }
    assert_true(hits > 0);
    close(fd);
}

// A sync the disk refuses: no write is taken after it (so nothing new is
// acknowledged), sync() keeps failing while the disk does, and the first
// one that succeeds writes again what was written since the last good sync
// (the pages a failed fdatasync may have dropped).
void refused_sync_holds_and_recovers(void**) {
    const std::string dir = temp_dir();
    {
        Node n(dir);
        assert_true(n.ok);
        n.post("lab", "first, synced");
        assert_true(n.journal->sync());
        n.post("lab", "second, written before the disk failed");
        n.journal->set_sync_fn(refuse_sync);
        assert_false(n.journal->sync());
        assert_true(n.journal->failing());
        assert_true(n.journal->dirty());
        assert_true(n.journal->must_sync_before_reply() == false); // batch; the check is the policy's
        roost::PostResult r;
        assert_int_equal(static_cast<int>(n.broker->post("lab", "dev", roost::MsgKind::chat, "third", {}, {}, r)),
                         static_cast<int>(Errc::disk_full));
        assert_int_equal(n.broker->find_room("lab")->history->head(), 2); // the refused post changed nothing
        assert_false(n.journal->sync());                                // still refused
        assert_int_equal(n.journal->stats().sync_failures, 2);
        lose(dir + "/history.roost", "second, written before the disk failed");
        n.journal->set_sync_fn(nullptr);
        assert_true(n.journal->sync());
        assert_false(n.journal->failing());
        assert_int_equal(n.post("lab", "third").seq, 3); // taken again
        assert_true(n.journal->sync());
    }
    Node again(dir);
    assert_true(again.ok);
    assert_true(again.msg("lab", 2).find("second, written before the disk failed") != std::string::npos);
    assert_true(again.msg("lab", 3).find("third") != std::string::npos);
    remove_dir(dir);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_known_values),
        cmocka_unit_test(restart_restores_history_keys_and_reads),
        cmocka_unit_test(damage_is_cut_and_reported),
        cmocka_unit_test(forged_records_neither_hide_others_nor_free_their_seq),
        cmocka_unit_test(truncation_and_header_copies),
        cmocka_unit_test(refuses_foreign_future_resized_and_locked_files),
        cmocka_unit_test(another_bot_layout_keeps_keys_and_reads),
        cmocka_unit_test(recycled_slot_forgets_the_old_room),
        cmocka_unit_test(refused_sync_holds_and_recovers),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
