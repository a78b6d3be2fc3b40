// /watch: alerts about devices posting into a room, said in the room the
// watch was set in. A threshold watch (`/watch sensors temp > 30`) alerts
// when a device's reading of that key crosses the threshold, and re-arms
// only once a reading is back past it by the hysteresis (default 5 % of the
// threshold, at least 0.1), so a value hovering at the line does not flap;
// a silent watch (`/watch sensors silent 5m`) alerts when no device has
// posted for that long, and says so when one posts again. At most one
// alert per watch every kAlertGapMs.
#include "broker/commands.h"

#include <cmath>

namespace roost {

namespace {

constexpr std::uint64_t kAlertGapMs = 10 * 1000;
constexpr std::string_view kUsage =
    "usage: /watch ROOM KEY > 30 [hyst 1] (or <, >=, <=) | /watch ROOM silent 5m | /watch list | /watch cancel N";

const char* op_text(WatchOp op) {
    switch (op) {
    case WatchOp::above: return ">";
    case WatchOp::below: return "<";
    case WatchOp::at_least: return ">=";
    case WatchOp::at_most: return "<=";
    case WatchOp::silent: return "silent";
    }
    return "?";
}

template <std::size_t N>
void describe(const Watch& w, TextOut<N>& out) {
    char a[32], b[32];
    out << "#" << w.room << " ";
    if (w.op == WatchOp::silent) {
        out << "silent for ";
        if (w.silent_ms < 60000) out << w.silent_ms / 1000 << " s";
        else out << w.silent_ms / 60000 << " min";
    } else {
        out << w.key << " " << op_text(w.op) << " " << format_number(w.threshold, a) << " (hysteresis "
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

bool mine(const Watch& w, std::string_view nick) {
    char a[kNickMax + 1], b[kNickMax + 1];
    return fold_nick(w.nick, a, sizeof a) == fold_nick(nick, b, sizeof b);
}

void alert(Broker& b, std::uint32_t index, Watch& w, std::string_view text, bool ok) {
    const std::uint32_t ri = CommandAccess::room_slot(b, w.alert_room);
    w.last_alert_ms = CommandAccess::now(b);
    CommandAccess::save(b, BotTable::watches, index);
    if (ri != kNone) {
        (void)CommandAccess::bot_say(b, ri, text, ok ? R"({"bot":"watch","alert":"ok"})" : R"({"bot":"watch","alert":"high"})");
    }
}

void list(Ctx& c) {
    std::uint32_t n = 0;
    Watch* ws = CommandAccess::watches(c.b, n);
    TextOut<2048> out;
    std::uint32_t found = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        if (!ws[i].used) continue;
        out << (found++ == 0 ? "Watches:" : "") << "\n" << std::uint64_t{ws[i].number} << ". ";
        describe(ws[i], out);
        out << " by " << ws[i].nick << ", alerts in #" << ws[i].alert_room << (ws[i].tripped ? " (alerting)" : "");
    }
    if (found == 0) out << "No watches. " << kUsage;
    CommandAccess::answer_private(c, out.view(), R"({"bot":"watch"})");
}

void cancel(Ctx& c, std::string_view arg) {
    double v = 0;
    std::uint32_t n = 0;
    Watch* ws = CommandAccess::watches(c.b, n);
    if (!parse_number(arg, v) || v < 1 || v > n || v != std::floor(v) || !ws[static_cast<std::uint32_t>(v) - 1].used) {
        CommandAccess::error(c, Errc::bad_request, "usage: /watch cancel N (N from /watch list)");
        return;
    }
    const std::uint32_t i = static_cast<std::uint32_t>(v) - 1;
    if (!mine(ws[i], CommandAccess::nick(c))) {
        CommandAccess::error(c, Errc::forbidden, "only the one who set a watch cancels it");
        return;
    }
    TextOut<300> out;
    out << "Watch " << std::uint64_t{ws[i].number} << " cancelled: ";
    describe(ws[i], out);
    ws[i] = Watch{};
    CommandAccess::save(c.b, BotTable::watches, i);
    CommandAccess::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"watch"})");
}

} // namespace

void cmd_watch(Ctx& c) {
    std::string_view rest = c.args;
    const std::string_view first = next_word(rest);
    if (first == "list" && rest.empty()) return list(c);
    if (first == "cancel") return cancel(c, rest);
    char room_buf[kRoomNameMax + 1];
    const std::string_view room = fold_room_name(first, room_buf, sizeof room_buf);
    if (room.empty()) {
        CommandAccess::error(c, Errc::bad_request, kUsage);
        return;
    }
    Watch w{};
    w.used = true;
    copy_str(w.room, room);
    copy_str(w.alert_room, CommandAccess::room_name(c.b, c.ri));
    copy_str(w.nick, CommandAccess::nick(c));
    const std::string_view key = next_word(rest);
    if (key == "silent") {
        if (!parse_duration(next_word(rest), w.silent_ms) || !rest.empty() || w.silent_ms < 10000) {
            CommandAccess::error(c, Errc::bad_request, "usage: /watch ROOM silent 5m (10s to 30d)");
            return;
        }
        w.op = WatchOp::silent;
        w.last_seen_ms = CommandAccess::now(c.b);
    } else {
        const std::string_view op = next_word(rest);
        const std::string_view value = next_word(rest);
        if (!nick_valid(key) || !parse_number(value, w.threshold)) {
            CommandAccess::error(c, Errc::bad_request, kUsage);
            return;
        }
        w.op = op == ">" ? WatchOp::above : op == "<" ? WatchOp::below : op == ">=" ? WatchOp::at_least
             : op == "<=" ? WatchOp::at_most : WatchOp::silent;
        w.hysteresis = std::fabs(w.threshold) * 0.05 < 0.1 ? 0.1 : std::fabs(w.threshold) * 0.05;
        if (!rest.empty()) {
            const std::string_view h = next_word(rest);
            const std::string_view hv = next_word(rest);
            if (h != "hyst" || !parse_number(hv, w.hysteresis) || w.hysteresis < 0 || !rest.empty()) {
                w.op = WatchOp::silent; // refused below
            }
        }
        if (w.op == WatchOp::silent) {
            CommandAccess::error(c, Errc::bad_request, kUsage);
            return;
        }
        copy_str(w.key, key);
    }
    std::uint32_t n = 0;
    Watch* ws = CommandAccess::watches(c.b, n);
    std::uint32_t slot = kNone;
    for (std::uint32_t i = 0; i < n && slot == kNone; ++i) {
        if (!ws[i].used) slot = i;
    }
    if (slot == kNone) {
        CommandAccess::error(c, Errc::server_busy, "the broker holds as many watches as it may (max_watches)");
        return;
    }
    w.number = slot + 1;
    ws[slot] = w;
    CommandAccess::save(c.b, BotTable::watches, slot);
    CommandAccess::wake_sweep(c.b);
    TextOut<300> out;
    out << "👀 Watch " << std::uint64_t{w.number} << ": ";
    describe(w, out);
    out << "; alerts go here.";
    CommandAccess::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"watch"})");
}

void watch_device(Broker& b, std::uint32_t ri, std::string_view from, std::string_view data_json) {
    std::uint32_t n = 0;
    Watch* ws = CommandAccess::watches(b, n);
    const std::string_view room = CommandAccess::room_name(b, ri);
    const std::uint64_t now = CommandAccess::now(b);
    for (std::uint32_t i = 0; i < n; ++i) {
        Watch& w = ws[i];
        if (!w.used || room != w.room) continue;
        if (w.op == WatchOp::silent) {
            w.last_seen_ms = now;
            if (w.tripped) {
                w.tripped = false;
                TextOut<200> out;
                out << "✅ #" << w.room << ": " << from << " is posting again.";
                alert(b, i, w, out.view(), true);
            }
            continue;
        }
        double v = 0;
        if (data_json.empty() || !data_number(data_json, w.key, v)) continue;
        char a[32], t[32];
        if (!w.tripped && crossed(w, v) && now - w.last_alert_ms >= kAlertGapMs) {
            w.tripped = true;
            TextOut<256> out;
            out << "⚠️ #" << w.room << ": " << from << " " << w.key << " is " << format_number(v, a) << " ("
                << op_text(w.op) << " " << format_number(w.threshold, t) << ")";
            alert(b, i, w, out.view(), false);
        } else if (w.tripped && back(w, v)) {
            w.tripped = false;
            TextOut<256> out;
            out << "✅ #" << w.room << ": " << from << " " << w.key << " is back to " << format_number(v, a);
            alert(b, i, w, out.view(), true);
        }
    }
}

bool watch_sweep(Broker& b, std::uint64_t now) {
    std::uint32_t n = 0;
    Watch* ws = CommandAccess::watches(b, n);
    bool pending = false;
    for (std::uint32_t i = 0; i < n; ++i) {
        Watch& w = ws[i];
        if (!w.used || w.op != WatchOp::silent) continue;
        pending = true;
        if (!w.tripped && now - w.last_seen_ms >= w.silent_ms) {
            w.tripped = true;
            TextOut<256> out;
            out << "⚠️ #" << w.room << ": no device has posted for ";
            if (w.silent_ms < 60000) out << w.silent_ms / 1000 << " s.";
            else out << w.silent_ms / 60000 << " min.";
            alert(b, i, w, out.view(), false);
        }
    }
    return pending;
}

void device_watches(Broker& b, std::string_view room, std::string_view device, DeviceWatchFn fn, void* ctx) {
    (void)device; // every watch of the room applies to each of its devices
    std::uint32_t n = 0;
    const Watch* ws = CommandAccess::watches(b, n);
    for (std::uint32_t i = 0; i < n; ++i) {
        const Watch& w = ws[i];
        if (!w.used || room != w.room) continue;
        DeviceWatch out{w.number, w.op, w.op == WatchOp::silent ? std::string_view{} : std::string_view(w.key),
                        w.threshold, w.silent_ms, w.tripped};
        fn(ctx, out);
    }
}

} // namespace roost
