// Tests for platform/journal_devices.cpp: the device store kept in
// devices.roost. A broker takes readings through a DiskJournal, a second
// broker is rebuilt from the files and the two stores are compared field by
// field, bucket by bucket; then devices.roost is damaged, truncated, forged
// (checksums made right again) and made for other sizes.
#include "broker/broker.h"
#include "broker/device_store.h"
#include "broker/reserve.h"
#include "platform/crc32c.h"
#include "platform/journal.h"
#include "tests/support/journal_fixture.h"
#include "tests/support/unit.h"

#include <cmath>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using roost::Broker;
using roost::DiskJournal;
using roost::Errc;

roost::CoreLimits device_limits() {
    roost::CoreLimits l;
    l.max_rooms = 3;
    l.ring_bytes = 8 * 1024;
    l.max_nicks = 8;
    l.reads_per_room = 4;
    l.max_devices = 4;
    l.keys_per_device = 4;
    l.max_series = 8;
    l.max_data_string = 16;
    l.device_stale_s = 60;
    const char* why = nullptr;
    if (!roost::parse_archives("1m:10m,5m:1h", l.archives, why)) fail_msg("%s", why);
    return l;
}

struct Node : roost_test::JournalFixture {
    explicit Node(const std::string& dir, roost::CoreLimits l = device_limits()) : JournalFixture(dir, l) {}
    Errc reading(const std::string& room, const std::string& device, const std::string& data) {
        roost::PostResult r;
        return broker->post(room, device, roost::MsgKind::device, "", data, {}, r);
    }
};

std::string temp_dir() {
    char t[] = "/tmp/roost-devjournal-XXXXXX";
    assert_non_null(mkdtemp(t));
    return t;
}

void remove_dir(const std::string& d) {
    for (const char* f : {"history.roost", "state.roost", "readings.roost", "devices.roost", "devices.roost.old"}) {
        unlink((d + "/" + f).c_str());
    }
    rmdir(d.c_str());
}

// Everything the store holds, as text: devices, their keys and values,
// series, and every bucket that was written.
std::string dump(const roost::DeviceStore& st) {
    std::ostringstream o;
    for (std::uint32_t i = 0; i < st.capacity(); ++i) {
        const roost::Device& d = st.device(i);
        if (!d.used) continue;
        o << "device " << i << " room " << d.room << " " << std::string(d.name, d.name_len) << " first " << d.first_ms
          << " last " << d.last_ms << " interval " << d.interval_ms << " readings " << d.readings << " stale "
          << d.stale << "\n";
        for (std::uint32_t k = 0; k < d.nkeys; ++k) {
            const roost::DeviceKey& key = st.key(i, k);
            o << "  " << std::string(key.name, key.name_len) << " type " << static_cast<int>(key.type) << " number "
              << key.number << " flag " << key.flag << " string '" << st.string_value(i, k) << "' series "
              << st.series_of(i, k) << "\n";
        }
    }
    for (std::uint32_t s = 0; s < st.series_capacity(); ++s) {
        const roost::Series& x = st.series(s);
        if (!x.used) continue;
        o << "series " << s << " device " << x.device << " key " << x.key << "\n";
        for (std::uint32_t a = 0; a < st.archives().n; ++a) {
            for (std::uint32_t k = 0; k < st.archives().a[a].count; ++k) {
                const roost::Bucket& b = st.bucket(s, a, k);
                if (b.id == 0) continue;
                o << "  " << a << "/" << k << " id " << b.id << " " << b.min << " " << b.max << " " << b.sum << " "
                  << b.count << "\n";
            }
        }
    }
    return o.str();
}

// Three devices in two rooms over 15 minutes (archive 0 of 10 one-minute
// buckets wraps), numbers, strings and booleans; the garage goes quiet.
void fill(Node& a) {
    for (int i = 0; i < 45; ++i) {
        char data[128];
        std::snprintf(data, sizeof data, R"({"temp":%d.25,"hum":%d,"door":%s,"mode":"m%d"})", 20 + i % 7, 40 + i,
                      i % 2 == 0 ? "true" : "false", i % 3);
        assert_int_equal(static_cast<int>(a.reading("sensors", "kitchen", data)), 0);
        if (i < 30) {
            std::snprintf(data, sizeof data, R"({"temp":%d.5,"volts":-%d.125})", 10 - i, i);
            assert_int_equal(static_cast<int>(a.reading("sensors", "Garage", data)), 0);
        }
        if (i % 5 == 0) assert_int_equal(static_cast<int>(a.reading("lab", "probe", R"({"ppm":1e30})")), 0);
        a.clock.advance(20000);
        a.broker->tick();
    }
}

// Offsets in devices.roost (platform/journal_devices.cpp's layout).
struct Layout {
    std::uint64_t device_copy, series_base, buckets_base, per_series;
    explicit Layout(const roost::CoreLimits& l) {
        device_copy = (16 + Broker::device_record_size(l) + 63) / 64 * 64;
        series_base = 4096 + std::uint64_t{l.max_devices} * 2 * device_copy;
        buckets_base = series_base + std::uint64_t{l.max_series} * 128;
        per_series = l.archives.buckets();
    }
    std::uint64_t device(std::uint32_t i, std::uint32_t copy) const { return 4096 + (i * 2ull + copy) * device_copy; }
    std::uint64_t series(std::uint32_t s, std::uint32_t copy) const { return series_base + (s * 2ull + copy) * 64; }
};

std::string file(const std::string& dir) {
    std::ifstream f(dir + "/devices.roost", std::ios::binary);
    return {(std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& dir, const std::string& all) {
    std::ofstream f(dir + "/devices.roost", std::ios::binary | std::ios::trunc);
    f.write(all.data(), static_cast<std::streamsize>(all.size()));
}

std::uint64_t u64(const std::string& all, std::uint64_t off) {
    std::uint64_t v = 0;
    std::memcpy(&v, all.data() + off, 8);
    return v;
}

// The copy (of two, `size` bytes each, at `off`) with the higher version.
std::uint64_t newest(const std::string& all, std::uint64_t off, std::uint64_t size) {
    return u64(all, off + 8) >= u64(all, off + size + 8) ? off : off + size;
}

// A versioned copy's crc made right again after an edit.
void reseal(std::string& all, std::uint64_t off, std::uint64_t size) {
    const std::uint32_t crc = roost::crc32c(0, all.data() + off + 8, static_cast<std::size_t>(size - 8));
    std::memcpy(&all[static_cast<std::size_t>(off + 4)], &crc, 4);
}

void restart_brings_back_every_device_value_and_bucket(void**) {
    const std::string dir = temp_dir();
    std::string before;
    {
        Node a(dir);
        assert_true(a.ok);
        fill(a);
        const std::uint32_t garage = a.broker->devices().find(0, "garage");
        assert_true(garage != roost::kNone);
        assert_true(a.broker->devices().device(garage).stale); // quiet for 5 minutes, stale after 60 s
        assert_false(a.broker->devices().device(a.broker->devices().find(0, "kitchen")).stale);
        before = dump(a.broker->devices());
        assert_true(a.journal->sync());
    }
    Node b(dir);
    assert_true(b.ok);
    assert_string_equal(dump(b.broker->devices()).c_str(), before.c_str());
    assert_non_null(std::strstr(b.reported().c_str(), "devices.roost: restored 3 device(s), 5 series"));
    assert_null(std::strstr(b.reported().c_str(), "damaged"));
    assert_int_equal(b.journal->stats().damaged, 0);
    // And it goes on from there: a reading after the restart lands in the
    // same series, and a third start sees both.
    assert_int_equal(static_cast<int>(b.reading("sensors", "kitchen", R"({"temp":99})")), 0);
    const std::string after = dump(b.broker->devices());
    b.journal.reset();
    Node c(dir);
    assert_string_equal(dump(c.broker->devices()).c_str(), after.c_str());
    remove_dir(dir);
}

void a_damaged_copy_falls_back_and_a_damaged_record_drops_alone(void**) {
    const std::string dir = temp_dir();
    std::string before;
    roost::CoreLimits l = device_limits();
    const Layout at(l);
    std::uint32_t kitchen = 0;
    {
        Node a(dir);
        fill(a);
        kitchen = a.broker->devices().find(0, "kitchen");
        before = dump(a.broker->devices());
    }
    std::string all = file(dir);
    // The kitchen's newest copy torn: the one before it comes back (one
    // reading older). Every other device is untouched.
    const std::uint64_t k_new = newest(all, at.device(kitchen, 0), at.device_copy);
    all[static_cast<std::size_t>(k_new + 100)] ^= 0x55;
    write_file(dir, all);
    {
        Node b(dir);
        assert_true(b.ok);
        const std::uint32_t k = b.broker->devices().find(0, "kitchen");
        assert_true(k != roost::kNone);
        assert_int_equal(b.broker->devices().device(k).readings, 44); // 45 taken, the last copy lost
        assert_true(b.broker->devices().find(0, "garage") != roost::kNone);
        assert_true(b.broker->devices().find(1, "probe") != roost::kNone);
        assert_int_equal(b.journal->stats().damaged, 1);
        assert_non_null(std::strstr(b.reported().c_str(), "1 damaged record(s) ignored"));
    }
    // Both copies torn: the kitchen is gone, with its series' buckets (no
    // device points at them); the garage and the probe come back whole.
    all = file(dir);
    all[static_cast<std::size_t>(at.device(kitchen, 0) + 101)] ^= 0x55;
    all[static_cast<std::size_t>(at.device(kitchen, 1) + 101)] ^= 0x55;
    // A bucket's crc broken: that bucket alone is dropped.
    write_file(dir, all);
    {
        Node b(dir);
        assert_true(b.ok);
        assert_true(b.broker->devices().find(0, "kitchen") == roost::kNone);
        const std::string now = dump(b.broker->devices());
        assert_non_null(std::strstr(now.c_str(), "Garage first"));
        assert_non_null(std::strstr(now.c_str(), "probe first"));
        assert_non_null(std::strstr(b.reported().c_str(), "restored 2 device(s), 3 series"));
        // Their readings go on; the kitchen starts over as a new device.
        assert_int_equal(static_cast<int>(b.reading("sensors", "kitchen", R"({"temp":1})")), 0);
        assert_int_equal(b.broker->devices().device(b.broker->devices().find(0, "kitchen")).readings, 1);
    }
    remove_dir(dir);
}

void forged_records_are_refused_alone(void**) {
    const std::string dir = temp_dir();
    roost::CoreLimits l = device_limits();
    const Layout at(l);
    std::uint32_t garage = 0, probe = 0, gseries = 0;
    std::string before;
    {
        Node a(dir);
        fill(a);
        const roost::DeviceStore& st = a.broker->devices();
        garage = st.find(0, "garage");
        probe = st.find(1, "probe");
        gseries = st.series_of(garage, 0);
        before = dump(st);
    }
    std::string all = file(dir);
    // The probe's record names another epoch of its room: a device of an
    // earlier history, refused.
    const std::uint64_t p = newest(all, at.device(probe, 0), at.device_copy);
    all[static_cast<std::size_t>(p + 16 + 8)] ^= 1;
    reseal(all, p, at.device_copy);
    // The garage's temp series record points at its other key: refused, its
    // buckets stay out, and its next reading makes a new series.
    const std::uint64_t s = newest(all, at.series(gseries, 0), 64);
    all[static_cast<std::size_t>(s + 16 + 4)] = 1;
    reseal(all, s, 64);
    // A bucket forged with min > max (its crc made right): refused.
    const std::uint32_t kseries = 0; // the kitchen's temp: the first series made
    const std::uint64_t bk = at.buckets_base + (kseries * at.per_series + 3) * 32;
    float min = 50, max = 1;
    std::memcpy(&all[static_cast<std::size_t>(bk + 12)], &min, 4);
    std::memcpy(&all[static_cast<std::size_t>(bk + 16)], &max, 4);
    const std::uint32_t crc = roost::crc32c(0, all.data() + bk + 4, 28);
    std::memcpy(&all[static_cast<std::size_t>(bk)], &crc, 4);
    write_file(dir, all);
    Node b(dir);
    assert_true(b.ok);
    const roost::DeviceStore& st = b.broker->devices();
    assert_true(st.find(1, "probe") == roost::kNone);
    assert_true(st.find(0, "garage") != roost::kNone);
    assert_true(st.series_of(garage, 0) == roost::kNoSeries);
    assert_true(st.series_of(garage, 1) != roost::kNoSeries);
    assert_int_equal(st.bucket(kseries, 0, 3).id, 0);
    for (std::uint32_t k = 0; k < 10; ++k) {
        const roost::Bucket& x = st.bucket(kseries, 0, k);
        assert_true(x.id == 0 || x.min <= x.max);
    }
    assert_non_null(std::strstr(b.reported().c_str(), "record(s) refused"));
    // Whatever came back, the store stays consistent: new readings of the
    // garage's temp and of a new device are taken.
    assert_int_equal(static_cast<int>(b.reading("sensors", "garage", R"({"temp":3,"volts":1})")), 0);
    assert_true(st.series_of(garage, 0) != roost::kNoSeries);
    assert_true(st.series_of(garage, 0) != st.series_of(garage, 1));
    assert_int_equal(static_cast<int>(b.reading("lab", "probe", R"({"ppm":1})")), 0);
    remove_dir(dir);
}

void truncated_or_garbage_never_crashes(void**) {
    const std::string dir = temp_dir();
    {
        Node a(dir);
        fill(a);
    }
    const std::string all = file(dir);
    const roost::CoreLimits l = device_limits();
    const Layout at(l);
    // Cut inside the buckets: the devices and series come back, the
    // buckets past the cut read as empty.
    write_file(dir, all.substr(0, static_cast<std::size_t>(at.buckets_base + 40 * 32)));
    {
        Node b(dir);
        assert_true(b.ok);
        assert_non_null(std::strstr(b.reported().c_str(), "truncated"));
        assert_non_null(std::strstr(b.reported().c_str(), "restored 3 device(s)"));
    }
    // Garbage after an intact header: nothing of it is taken.
    std::string junk = all;
    std::uint64_t x = 12345;
    for (std::size_t i = 4096; i < junk.size(); ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        junk[i] = static_cast<char>(x >> 56);
    }
    write_file(dir, junk);
    {
        Node b(dir);
        assert_true(b.ok);
        assert_non_null(std::strstr(b.reported().c_str(), "restored 0 device(s), 0 series, 0 bucket(s)"));
    }
    remove_dir(dir);
}

void other_sizes_set_the_file_aside(void**) {
    const std::string dir = temp_dir();
    {
        Node a(dir);
        fill(a);
    }
    const std::string old = file(dir);
    roost::CoreLimits more = device_limits();
    more.max_devices = 6;
    {
        Node b(dir, more);
        assert_true(b.ok);
        assert_non_null(std::strstr(b.reported().c_str(), "set aside as"));
        assert_int_equal(b.broker->devices().find(0, "kitchen"), roost::kNone);
        assert_non_null(b.broker->find_room("sensors")); // the rest of the journal is untouched
        std::ifstream f(dir + "/devices.roost.old", std::ios::binary);
        const std::string aside((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        assert_true(aside == old);
    }
    roost::CoreLimits other_archives = more;
    const char* why = nullptr;
    assert_true(roost::parse_archives("1m:10m,5m:2h", other_archives.archives, why));
    {
        Node b(dir, other_archives);
        assert_true(b.ok);
        assert_non_null(std::strstr(b.reported().c_str(), "device_archives changed"));
    }
    // Both header copies damaged: set aside too, never misread.
    std::string all = file(dir);
    all[10] ^= 1;
    all[2048 + 10] ^= 1;
    write_file(dir, all);
    {
        Node b(dir, other_archives);
        assert_true(b.ok);
        assert_non_null(std::strstr(b.reported().c_str(), "no intact header"));
    }
    remove_dir(dir);
}

void a_room_that_starts_over_clears_its_devices_on_disk(void**) {
    const std::string dir = temp_dir();
    const Layout at(device_limits());
    std::uint32_t probe = 0;
    {
        Node a(dir);
        fill(a); // rooms "sensors" and "lab"
        probe = a.broker->devices().find(1, "probe");
        roost::PostResult r;
        a.clock.advance(1000);
        assert_int_equal(static_cast<int>(a.broker->post("sensors", "ann", roost::MsgKind::chat, "hi", {}, {}, r)), 0);
        assert_int_equal(static_cast<int>(a.broker->post("third", "ann", roost::MsgKind::chat, "hi", {}, {}, r)), 0);
        // Every slot is used: "lab" (idle longest) is recycled for "fourth".
        assert_int_equal(static_cast<int>(a.broker->post("fourth", "ann", roost::MsgKind::chat, "hi", {}, {}, r)), 0);
        assert_null(a.broker->find_room("lab"));
        assert_true(a.broker->devices().find(1, "probe") == roost::kNone);
    }
    const std::string all = file(dir);
    const std::uint64_t p = newest(all, at.device(probe, 0), at.device_copy);
    assert_int_equal(all[static_cast<std::size_t>(p + 16)], 0); // cleared, not merely of an old epoch
    Node b(dir);
    assert_true(b.broker->devices().find(1, "probe") == roost::kNone);
    assert_true(b.broker->devices().find(0, "kitchen") != roost::kNone);
    if (std::strstr(b.reported().c_str(), "refused") != nullptr) fail_msg("%s", b.reported().c_str());
    remove_dir(dir);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restart_brings_back_every_device_value_and_bucket),
        cmocka_unit_test(a_damaged_copy_falls_back_and_a_damaged_record_drops_alone),
        cmocka_unit_test(forged_records_are_refused_alone),
        cmocka_unit_test(truncated_or_garbage_never_crashes),
        cmocka_unit_test(other_sizes_set_the_file_aside),
        cmocka_unit_test(a_room_that_starts_over_clears_its_devices_on_disk),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
