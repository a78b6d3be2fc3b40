// /watch: alerts about the devices posting readings into a room, said in
// the room the watch was set in. Every state is per device: a watch of
// every device of a room (`/watch sensors temp > 30`) alerts for the
// kitchen and later says the kitchen is back, while the shed alerts and
// comes back on its own; a watch may name one device (`/watch sensors
// kitchen temp > 30`, names compared case-insensitively as the device
// store does).
//
// A threshold watch alerts when a device's reading of the key crosses the
// threshold, and re-arms for that device only once a reading of it is back
// past the hysteresis (default 5 % of the threshold, at least 0.1), so a
// value hovering at the line does not flap. A silent watch alerts for each
// device that has not posted a reading for the time given (counted from
// when the watch was set at most), and says so when it posts again; a
// watch of every device knows the room's devices the store knew when it
// was set and every one that posts since. Messages about one device are
// kAlertGapMs apart at least (a back-to-normal included).
//
// Alerts are bot messages with data {"bot":"watch","watch":N,"device":D,
// "key":K (null for silent),"value":V (absent for silent),"state":
// "alert"|"back"} (docs/protocol.md, docs/watch.md).
#include "broker/broker.h"
#include "broker/commands.h"
#include "broker/device_store.h"
#include "broker/json_writer.h"

#include <cmath>
#include <cstring>

namespace roost {

const DeviceStore& BrokerForCommands::device_store(Broker& b) { return b.devices_; }

const char* watch_op_text(WatchOp op) {
    switch (op) {
    case WatchOp::above: return ">";
    case WatchOp::below: return "<";
    case WatchOp::at_least: return ">=";
    case WatchOp::at_most: return "<=";
    case WatchOp::silent: return "silent";
    }
    return "?";
}

namespace {

constexpr std::uint64_t kAlertGapMs = 10 * 1000;
constexpr std::string_view kUsage = "usage: /watch ROOM [DEVICE] KEY > 30 [hyst 1] (or <, >=, <=) | "
                                    "/watch ROOM [DEVICE] silent 5m | /watch list | /watch cancel N";
constexpr std::string_view kSilentUsage = "usage: /watch ROOM [DEVICE] silent 5m (10s to 30d)";

bool op_of(std::string_view s, WatchOp& op) {
    if (s == ">") op = WatchOp::above;
    else if (s == "<") op = WatchOp::below;
    else if (s == ">=") op = WatchOp::at_least;
    else if (s == "<=") op = WatchOp::at_most;
    else return false;
    return true;
}

template <std::size_t N>
void span_text(std::uint64_t ms, TextOut<N>& out) {
    if (ms >= 3600000 && ms % 3600000 == 0) out << ms / 3600000 << " h";
    else if (ms >= 60000 && ms % 60000 == 0) out << ms / 60000 << " min";
    else out << ms / 1000 << " s";
}

template <std::size_t N>
void describe(const Watch& w, TextOut<N>& out) {
    char a[32], b[32];
    out << "#" << w.room << " ";
    if (w.device[0] != '\0') out << w.device << " ";
    if (w.op == WatchOp::silent) {
        out << "silent for ";
        span_text(w.silent_ms, out);
    } else {
        out << w.key << " " << watch_op_text(w.op) << " " << format_number(w.threshold, a) << " (hysteresis "
            << format_number(w.hysteresis, b) << ")";
    }
}

bool crossed(const Watch& w, double v) {
    switch (w.op) {
    case WatchOp::above: return v > w.threshold;
    case WatchOp::below: return v < w.threshold;
    case WatchOp::at_least: return v >= w.threshold;
    case WatchOp::at_most: return v <= w.threshold;
    case WatchOp::silent: return false;
    }
    return false;
}

bool back(const Watch& w, double v) {
    const bool high = w.op == WatchOp::above || w.op == WatchOp::at_least;
    return high ? v <= w.threshold - w.hysteresis : v >= w.threshold + w.hysteresis;
}

// A clock stepped back (an alert "in the future") does not hold alerts off.
bool gap_passed(const WatchDevice& e, std::uint64_t now) {
    return now < e.last_alert_ms || now - e.last_alert_ms >= kAlertGapMs;
}

bool mine(const Watch& w, std::string_view nick) {
    char a[kNickMax + 1], b[kNickMax + 1];
    return fold_nick(w.nick, a, sizeof a) == fold_nick(nick, b, sizeof b);
}

// The store's record of the device `e` follows, while it still is that
// device (same slot, room, name and first reading); null once forgotten.
const Device* store_device(Broker& b, std::uint32_t ri, const WatchDevice& e) {
    const DeviceStore& s = BrokerForCommands::device_store(b);
    if (ri == kNone || e.device >= s.capacity()) return nullptr;
    const Device& d = s.device(e.device);
    const bool same = d.used && d.room == ri && d.first_ms == e.first_ms &&
                      nick_equal(std::string_view(d.name, d.name_len), e.name);
    return same ? &d : nullptr;
}

// In alert for its device: a threshold alert ends with the device the
// store forgot; a silence lasts until the device posts again.
bool in_alert(Broker& b, std::uint32_t ri, const Watch& w, const WatchDevice& e) {
    return e.used && e.tripped && (w.op == WatchOp::silent || store_device(b, ri, e) != nullptr);
}

WatchDevice* entry_of(Watch& w, std::string_view device) {
    for (WatchDevice& e : w.devices) {
        if (e.used && nick_equal(e.name, device)) return &e;
    }
    return nullptr;
}

void start_entry(WatchDevice& e, std::string_view name, std::uint32_t device, std::uint64_t first_ms,
                 std::uint64_t now) {
    char copy[kNickMax + 1]; // `name` may be e's own
    copy_str(copy, name);
    std::memset(&e, 0, sizeof e);
    e.used = true;
    std::memcpy(e.name, copy, sizeof copy);
    e.device = device;
    e.first_ms = first_ms;
    e.last_seen_ms = now;
}

// A place for a device new to a watch of every device: a free one, else
// that of a device the store forgot, else that of the quietest device not
// in alert; null when all are in alert.
WatchDevice* free_entry(Broker& b, std::uint32_t ri, Watch& w) {
    for (WatchDevice& e : w.devices) {
        if (!e.used) return &e;
    }
    for (WatchDevice& e : w.devices) {
        if (store_device(b, ri, e) == nullptr) return &e;
    }
    WatchDevice* pick = nullptr;
    for (WatchDevice& e : w.devices) {
        if (!e.tripped && (pick == nullptr || e.last_seen_ms < pick->last_seen_ms)) pick = &e;
    }
    return pick;
}

// The entry of the device that posted (store slot `di`, first reading
// `first_ms`), made when the device is new to the watch. An entry of
// another device by that name (the store forgot the one it followed)
// starts over without its threshold alert; a silence stays, so its end is
// said. Sets `changed` when the record must be saved.
WatchDevice* follow(Broker& b, std::uint32_t ri, Watch& w, std::string_view from, std::uint32_t di,
                    std::uint64_t first_ms, std::uint64_t now, bool& changed) {
    WatchDevice* e = entry_of(w, from);
    if (e != nullptr) {
        copy_str(e->name, from); // alerts spell it as the device does
        if (e->device != di || e->first_ms != first_ms) {
            if (e->device != kNone && w.op != WatchOp::silent) start_entry(*e, from, di, first_ms, e->last_seen_ms);
            e->device = di;
            e->first_ms = first_ms;
            changed = true;
        }
        return e;
    }
    e = free_entry(b, ri, w);
    if (e != nullptr) {
        start_entry(*e, from, di, first_ms, now);
        changed = true;
    }
    return e;
}

// Threshold entries of a device whose store slot `di` another device
// (`from`) now holds: that device is gone. A named watch keeps waiting for
// its device, with no alert; a watch of every device lets the place go. A
// silence is about a name (has anything called "garage" posted?), so it
// stays until a device of that name posts.
void forget_reused(Watch& w, std::uint32_t di, std::string_view from, bool& changed) {
    if (di == kNone || w.op == WatchOp::silent) return;
    for (WatchDevice& e : w.devices) {
        if (!e.used || e.device != di || nick_equal(e.name, from)) continue;
        if (w.device[0] != '\0') start_entry(e, e.name, kNone, 0, e.last_seen_ms);
        else std::memset(&e, 0, sizeof e); // unused records are all zeros on disk
        changed = true;
    }
}

// Says one device's alert (or its end) in the watch's alert room.
void say_alert(Broker& b, std::uint32_t index, Watch& w, WatchDevice& e, std::string_view text, bool is_back,
               const double* value) {
    e.last_alert_ms = BrokerForCommands::now(b);
    BrokerForCommands::save(b, RecordTable::watches, index);
    char buf[256];
    JsonWriter j(buf, sizeof buf);
    j.begin_object();
    j.key("bot");
    j.string("watch");
    j.key("watch");
    j.uint(w.number);
    j.key("device");
    j.string(e.name);
    j.key("key");
    if (w.op == WatchOp::silent) j.null();
    else j.string(w.key);
    if (value != nullptr) {
        j.key("value");
        j.number(*value);
    }
    j.key("state");
    j.string(is_back ? "back" : "alert");
    j.end_object();
    const std::uint32_t ri = BrokerForCommands::room_slot(b, w.alert_room);
    if (ri != kNone && j.ok()) (void)BrokerForCommands::bot_say(b, ri, text, j.view());
}

void list(Ctx& c) {
    std::uint32_t n = 0;
    Watch* ws = BrokerForCommands::watches(c.b, n);
    TextOut<2048> out;
    std::uint32_t found = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        const Watch& w = ws[i];
        if (!w.used) continue;
        out << (found++ == 0 ? "Watches:" : "") << "\n" << std::uint64_t{w.number} << ". ";
        describe(w, out);
        out << " by " << w.nick << ", alerts in #" << w.alert_room;
        const std::uint32_t ri = BrokerForCommands::room_slot(c.b, w.room);
        std::uint32_t alerting = 0, followed = 0;
        for (const WatchDevice& e : w.devices) {
            followed += e.used ? 1 : 0;
            if (!in_alert(c.b, ri, w, e)) continue;
            out << (alerting++ == 0 ? "; in alert: " : ", ") << e.name;
        }
        if (w.device[0] == '\0' && followed == kWatchDevices) {
            out << " (follows " << std::uint64_t{kWatchDevices} << " devices, the most one watch does)";
        }
    }
    if (found == 0) out << "No watches. " << kUsage;
    BrokerForCommands::answer_private(c, out.view(), R"({"bot":"watch"})");
}

void cancel(Ctx& c, std::string_view arg) {
    double v = 0;
    std::uint32_t n = 0;
    Watch* ws = BrokerForCommands::watches(c.b, n);
    if (!parse_number(arg, v) || v < 1 || v > n || v != std::floor(v) || !ws[static_cast<std::uint32_t>(v) - 1].used) {
        BrokerForCommands::error(c, Errc::bad_request, "usage: /watch cancel N (N from /watch list)");
        return;
    }
    const std::uint32_t i = static_cast<std::uint32_t>(v) - 1;
    if (!mine(ws[i], BrokerForCommands::nick(c))) {
        BrokerForCommands::error(c, Errc::forbidden, "only the one who set a watch cancels it");
        return;
    }
    TextOut<300> out;
    out << "Watch " << std::uint64_t{ws[i].number} << " cancelled: ";
    describe(ws[i], out);
    ws[i] = Watch{};
    BrokerForCommands::save(c.b, RecordTable::watches, i);
    BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"watch"})");
}

// The words after the room: `[DEVICE] KEY OP NUMBER [hyst H]` or
// `[DEVICE] silent DURATION`, into `w`; the refusal's message when not.
bool parse_watch(std::string_view rest, Watch& w, std::string_view& why) {
    why = kUsage;
    const std::string_view a = next_word(rest), b = next_word(rest);
    std::string_view device, key, op, value;
    WatchOp k = WatchOp::silent;
    if (op_of(b, k)) { // KEY OP NUMBER
        key = a;
        op = b;
        value = next_word(rest);
    } else if (a == "silent" && !b.empty() && rest.empty()) { // silent DURATION
        value = b;
    } else if (b == "silent") { // DEVICE silent DURATION
        device = a;
        value = next_word(rest);
    } else { // DEVICE KEY OP NUMBER
        device = a;
        key = b;
        op = next_word(rest);
        value = next_word(rest);
        if (!op_of(op, k)) return false;
    }
    if (!device.empty() && !nick_valid(device)) {
        why = "a device name is 1 to 24 of A-Z a-z 0-9 _ - .";
        return false;
    }
    copy_str(w.device, device);
    if (op.empty()) {
        why = kSilentUsage;
        if (!parse_duration(value, w.silent_ms) || !rest.empty() || w.silent_ms < 10000) return false;
        w.op = WatchOp::silent;
        return true;
    }
    if (!nick_valid(key)) {
        why = "a data key is 1 to 24 of A-Z a-z 0-9 _ - .";
        return false;
    }
    if (!parse_number(value, w.threshold)) return false;
    w.op = k;
    copy_str(w.key, key);
    w.hysteresis = std::fabs(w.threshold) * 0.05 < 0.1 ? 0.1 : std::fabs(w.threshold) * 0.05;
    if (!rest.empty()) {
        const std::string_view h = next_word(rest), hv = next_word(rest);
        if (h != "hyst" || !parse_number(hv, w.hysteresis) || w.hysteresis < 0 || !rest.empty()) return false;
    }
    return true;
}

// A new watch's first entries: its named device (known to the store or
// not yet), or for a silent watch of every device the devices the store
// knows in the room; silence counts from now.
void first_entries(Broker& b, Watch& w, std::uint64_t now) {
    const DeviceStore& s = BrokerForCommands::device_store(b);
    const std::uint32_t ri = BrokerForCommands::room_slot(b, w.room);
    if (w.device[0] != '\0') {
        const std::uint32_t di = ri == kNone ? kNone : s.find(ri, w.device);
        start_entry(w.devices[0], w.device, di, di == kNone ? 0 : s.device(di).first_ms, now);
        return;
    }
    if (w.op != WatchOp::silent || ri == kNone) return;
    std::uint32_t k = 0;
    for (std::uint32_t i = 0; i < s.capacity() && k < kWatchDevices; ++i) {
        const Device& d = s.device(i);
        if (d.used && d.room == ri) start_entry(w.devices[k++], {d.name, d.name_len}, i, d.first_ms, now);
    }
}

} // namespace

void cmd_watch(Ctx& c) {
    std::string_view rest = c.args;
    const std::string_view first = next_word(rest);
    if (first == "list" && rest.empty()) return list(c);
    if (first == "cancel") return cancel(c, rest);
    char room_buf[kRoomNameMax + 1];
    const std::string_view room = fold_room_name(first, room_buf, sizeof room_buf);
    Watch w{};
    std::string_view why = kUsage;
    if (room.empty() || !parse_watch(rest, w, why)) {
        BrokerForCommands::error(c, Errc::bad_request, why);
        return;
    }
    w.used = true;
    copy_str(w.room, room);
    copy_str(w.alert_room, BrokerForCommands::room_name(c.b, c.ri));
    copy_str(w.nick, BrokerForCommands::nick(c));
    std::uint32_t n = 0;
    Watch* ws = BrokerForCommands::watches(c.b, n);
    std::uint32_t slot = kNone;
    for (std::uint32_t i = 0; i < n && slot == kNone; ++i) {
        if (!ws[i].used) slot = i;
    }
    if (slot == kNone) {
        BrokerForCommands::error(c, Errc::server_busy, "the broker holds as many watches as it may (max_watches)");
        return;
    }
    w.number = slot + 1;
    w.since_ms = BrokerForCommands::now(c.b);
    first_entries(c.b, w, w.since_ms);
    ws[slot] = w;
    BrokerForCommands::save(c.b, RecordTable::watches, slot);
    BrokerForCommands::wake_sweep(c.b);
    TextOut<300> out;
    out << "👀 Watch " << std::uint64_t{w.number} << ": ";
    describe(w, out);
    out << "; alerts go here.";
    BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"watch"})");
}

void watch_device(Broker& b, std::uint32_t ri, std::string_view from, std::uint32_t di, std::string_view data_json) {
    std::uint32_t n = 0;
    Watch* ws = BrokerForCommands::watches(b, n);
    const std::string_view room = BrokerForCommands::room_name(b, ri);
    const std::uint64_t now = BrokerForCommands::now(b);
    const std::uint64_t first_ms = di == kNone ? 0 : BrokerForCommands::device_store(b).device(di).first_ms;
    for (std::uint32_t i = 0; i < n; ++i) {
        Watch& w = ws[i];
        if (!w.used || room != w.room) continue;
        bool changed = false;
        forget_reused(w, di, from, changed);
        double v = 0;
        const bool mine_device = w.device[0] == '\0' || nick_equal(w.device, from);
        const bool relevant = w.op == WatchOp::silent || (!data_json.empty() && data_number(data_json, w.key, v));
        WatchDevice* e = mine_device && relevant ? follow(b, ri, w, from, di, first_ms, now, changed) : nullptr;
        if (changed) BrokerForCommands::save(b, RecordTable::watches, i);
        if (e == nullptr) continue;
        e->last_seen_ms = now;
        if (w.op == WatchOp::silent) {
            if (e->tripped) {
                e->tripped = false;
                TextOut<200> out;
                out << "✅ #" << w.room << ": " << e->name << " is posting again.";
                say_alert(b, i, w, *e, out.view(), true, nullptr);
            }
            continue;
        }
        char a[32], t[32];
        if (!e->tripped && crossed(w, v) && gap_passed(*e, now)) {
            e->tripped = true;
            TextOut<256> out;
            out << "⚠️ #" << w.room << ": " << e->name << " " << w.key << " is " << format_number(v, a) << " ("
                << watch_op_text(w.op) << " " << format_number(w.threshold, t) << ")";
            say_alert(b, i, w, *e, out.view(), false, &v);
        } else if (e->tripped && back(w, v)) {
            e->tripped = false;
            TextOut<256> out;
            out << "✅ #" << w.room << ": " << e->name << " " << w.key << " is back to " << format_number(v, a);
            say_alert(b, i, w, *e, out.view(), true, &v);
        }
    }
}

bool watch_sweep(Broker& b, std::uint64_t now) {
    std::uint32_t n = 0;
    Watch* ws = BrokerForCommands::watches(b, n);
    bool pending = false;
    for (std::uint32_t i = 0; i < n; ++i) {
        Watch& w = ws[i];
        if (!w.used || w.op != WatchOp::silent) continue;
        pending = true;
        const std::uint32_t ri = BrokerForCommands::room_slot(b, w.room);
        for (WatchDevice& e : w.devices) {
            if (!e.used || e.tripped) continue;
            // The store's last reading counts too: readings do not save the
            // watch, so after a restart the store knows better.
            const Device* d = store_device(b, ri, e);
            const std::uint64_t last = d != nullptr && d->last_ms > e.last_seen_ms ? d->last_ms : e.last_seen_ms;
            if (now <= last || now - last < w.silent_ms || !gap_passed(e, now)) continue;
            e.last_seen_ms = last;
            e.tripped = true;
            TextOut<256> out;
            out << "⚠️ #" << w.room << ": " << e.name << " has not posted for ";
            span_text(w.silent_ms, out);
            out << ".";
            say_alert(b, i, w, e, out.view(), false, nullptr);
        }
    }
    return pending;
}

void device_watches(Broker& b, std::string_view room, std::string_view device, DeviceWatchFn fn, void* ctx) {
    std::uint32_t n = 0;
    Watch* ws = BrokerForCommands::watches(b, n);
    const std::uint32_t ri = BrokerForCommands::room_slot(b, room);
    for (std::uint32_t i = 0; i < n; ++i) {
        Watch& w = ws[i];
        if (!w.used || room != w.room || (w.device[0] != '\0' && !nick_equal(w.device, device))) continue;
        const WatchDevice* e = entry_of(w, device);
        DeviceWatch out{w.number, w.op, w.op == WatchOp::silent ? std::string_view{} : std::string_view(w.key),
                        w.threshold, w.silent_ms, e != nullptr && in_alert(b, ri, w, *e)};
        fn(ctx, out);
    }
}

} // namespace roost
