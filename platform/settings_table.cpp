// The table of every runtime setting and the checking of one value against
// its row. Defaults live in the Settings and CoreLimits initialisers only;
// the table reads them from a default-constructed Settings when it documents
// itself, so help, roost.conf and the code cannot disagree about them.
#include "platform/settings_table.h"

#include "broker/device_store.h"
#include "broker/names.h"

#include <charconv>
#include <cstdint>

namespace roost::settings_table {

enum class Kind : std::uint8_t {
    port,   // int, -1 (off) .. 65535
    count,  // std::uint32_t within [min, max]
    text,   // a non-empty string
    level,  // error | warn | info | debug
    fsync,  // always | batch | never
    list,   // comma-separated origins; empty = none
    token,  // one device token, appended
    config, // the config file's own path (command line only)
    archives, // the device series' archives: STEP:SPAN,... (broker/device_store.h)
};

using IntRef = int& (*)(Settings&);
using CountRef = std::uint32_t& (*)(Settings&);

struct Spec {
    const char* name;
    Kind kind;
    const char* value_name;
    const char* help;
    std::int64_t min;
    std::int64_t max;
    IntRef int_field;                    // port
    CountRef count_field;                // count
    std::string Settings::*text_field;   // text, level, config
};

namespace {

// Pointers to members cannot reach into s.limits, so every numeric row gets
// a tiny accessor instantiated from a member pointer.
template <int Settings::*F> int& top_int(Settings& s) { return s.*F; }
template <std::uint32_t Settings::*F> std::uint32_t& top(Settings& s) { return s.*F; }
template <std::uint32_t CoreLimits::*F> std::uint32_t& lim(Settings& s) { return s.limits.*F; }

constexpr std::int64_t KiB = 1024;
constexpr std::int64_t MiB = 1024 * 1024;

Spec port(const char* name, const char* help, IntRef f) {
    return {name, Kind::port, "PORT", help, -1, 65535, f, nullptr, nullptr};
}
Spec count(const char* name, const char* value_name, const char* help, std::int64_t min, std::int64_t max,
           CountRef f) {
    return {name, Kind::count, value_name, help, min, max, nullptr, f, nullptr};
}
Spec text(const char* name, Kind kind, const char* value_name, const char* help, std::string Settings::*f) {
    return {name, kind, value_name, help, 0, 0, nullptr, nullptr, f};
}
// Rows whose value goes to a field of its own type (origins, tokens).
Spec other(const char* name, Kind kind, const char* value_name, const char* help) {
    return {name, kind, value_name, help, 0, 0, nullptr, nullptr, nullptr};
}

// Listing order is the order of --help and roost.conf: network, files,
// logging, access, connections, then the core's memory, sizes and rates.
const Spec kSpecs[] = {
    text("bind", Kind::text, "ADDR", "listen address (empty: every IPv4 and IPv6 address)", &Settings::bind),
    port("http_port", "HTTP and ws:// port; 0 = any free port, -1 = off", &top_int<&Settings::http_port>),
    port("https_port", "HTTPS and wss:// port; 0 = any free port, -1 = off", &top_int<&Settings::https_port>),
    text("data", Kind::text, "DIR", "data directory (history, keys, read marks, certificates; also data_dir); empty: run from memory", &Settings::data_dir),
    text("tls_cert", Kind::text, "FILE", "PEM server certificate (empty: make a local CA and certificate)",
         &Settings::tls_cert),
    text("tls_key", Kind::text, "FILE", "PEM private key of tls_cert", &Settings::tls_key),
    text("fsync", Kind::fsync, "POLICY",
         "when history reaches the disk: always (before each ack), batch (every fsync_ms), never (the OS decides)",
         &Settings::fsync),
    count("fsync_ms", "MS", "with fsync = batch: milliseconds between syncs", 1, 60000, &top<&Settings::fsync_ms>),
    text("mqtt", Kind::text, "URL",
         "MQTT broker to bridge rooms through: mqtt://host[:port] or mqtts://host[:port] (default: no bridge)",
         &Settings::mqtt_url),
    text("mqtt_client_id", Kind::text, "ID",
         "MQTT client id, also this broker's origin on the bridge (default: roost- and 8 random letters)",
         &Settings::mqtt_client_id),
    text("mqtt_user", Kind::text, "NAME", "MQTT user name", &Settings::mqtt_user),
    text("mqtt_password", Kind::text, "SECRET", "MQTT password", &Settings::mqtt_password),
    text("mqtt_ca", Kind::text, "FILE", "PEM CA certificate that signs the mqtts:// broker's certificate",
         &Settings::mqtt_ca),
    text("mqtt_cert", Kind::text, "FILE", "PEM client certificate for the MQTT broker", &Settings::mqtt_cert),
    text("mqtt_key", Kind::text, "FILE", "PEM private key of mqtt_cert", &Settings::mqtt_key),
    text("mqtt_prefix", Kind::text, "TOPIC", "MQTT topic prefix: rooms are PREFIX/ROOM", &Settings::mqtt_prefix),
    text("mqtt_rooms", Kind::text, "LIST", "rooms bridged, comma-separated, or * for every plain room",
         &Settings::mqtt_rooms),
    count("mqtt_qos", "N", "MQTT QoS of the bridge's publishes and subscriptions", 0, 1, &top<&Settings::mqtt_qos>),
    text("timezone", Kind::text, "ZONE",
         "time zone of /remind at (e.g. Europe/Berlin; default: the system's)", &Settings::timezone),
    text("log_level", Kind::level, "LEVEL", "how much to log", &Settings::log_level),
    text("config", Kind::config, "FILE", "read settings from FILE first (command line only)",
         &Settings::config_file),
    other("origins", Kind::list, "LIST",
          "WebSocket Origins allowed besides the page's own host, comma-separated (http://host:port); * = any"),
    other("token", Kind::token, "SPEC",
          "a device token: NAME SECRET rooms=ROOMS [read=ROOMS] [write=ROOMS]; ROOMS comma-separated or *; "
          "repeat for more tokens"),
    count("max_connections", "N", "open connections: HTTP, WebSocket and SSE", 1, 65536,
          &top<&Settings::max_connections>),
    count("max_per_address", "N", "open connections from one source address", 1, 65536,
          &top<&Settings::max_per_address>),
    count("handshake_timeout_s", "SECONDS", "seconds to finish the TLS and HTTP handshake", 1, 300,
          &top<&Settings::handshake_timeout_s>),
    count("idle_timeout_s", "SECONDS", "seconds a silent WebSocket lives; pinged at half of it", 10, 3600,
          &top<&Settings::idle_timeout_s>),
    count("max_rooms", "N", "rooms held, direct-message rooms included", 1, 4096, &lim<&CoreLimits::max_rooms>),
    count("ring_msgs", "N", "messages of people (and bots) a room's history holds", 1, 65536,
          &lim<&CoreLimits::ring_msgs>),
    count("ring_bytes", "BYTES",
          "bytes of people's messages a room's history holds, whichever of ring_msgs/ring_bytes fills first; at least "
          "one largest message",
          4 * KiB, 16 * MiB, &lim<&CoreLimits::ring_bytes>),
    count("device_ring_msgs", "N", "device readings a room keeps for replay (people's messages have their own ring)", 1,
          65536, &lim<&CoreLimits::device_ring_msgs>),
    count("device_ring_bytes", "BYTES",
          "bytes of a room's device readings, whichever of device_ring_msgs/device_ring_bytes fills first; 0: 32 KiB, "
          "or one largest message if more",
          0, 16 * MiB, &lim<&CoreLimits::device_ring_bytes>),
    count("max_sessions", "N", "concurrent WebSocket sessions", 1, 65536, &lim<&CoreLimits::max_sessions>),
    count("max_nicks", "N", "nicks known (online, or owning a key)", 1, 65536, &lim<&CoreLimits::max_nicks>),
    count("rooms_per_session", "N", "rooms one session may be joined to", 1, 256,
          &lim<&CoreLimits::rooms_per_session>),
    count("reads_per_room", "N", "read receipts remembered per room", 1, 4096, &lim<&CoreLimits::reads_per_room>),
    count("max_timers", "N", "pending timers (bots, reminders)", 1, 65536, &lim<&CoreLimits::max_timers>),
    count("max_reminders", "N", "reminders pending in the whole broker", 0, 65536, &lim<&CoreLimits::max_reminders>),
    count("reminders_per_nick", "N", "reminders one nick may have pending", 0, 1000,
          &lim<&CoreLimits::reminders_per_nick>),
    count("max_watches", "N", "device watches (/watch) in the whole broker", 0, 4096, &lim<&CoreLimits::max_watches>),
    count("max_text", "BYTES", "bytes of message text", 16, 64 * KiB, &lim<&CoreLimits::max_text>),
    count("max_frame", "BYTES", "bytes of one client WebSocket frame; at least max_text + 512", 1 * KiB, 1 * MiB,
          &lim<&CoreLimits::max_frame>),
    count("max_body", "BYTES", "bytes of one HTTP request body; at least max_text", 1 * KiB, 1 * MiB,
          &lim<&CoreLimits::max_body>),
    count("backlog", "N", "messages replayed on join by default", 0, 65536, &lim<&CoreLimits::backlog>),
    count("batch_bytes", "BYTES", "bytes of one batched server frame", 1 * KiB, 1 * MiB,
          &lim<&CoreLimits::batch_bytes>),
    count("control_bytes", "BYTES", "per-session buffer for small events; overflow disconnects the session",
          1 * KiB, 1 * MiB, &lim<&CoreLimits::control_bytes>),
    count("max_data_keys", "N", "keys in a message's data object", 0, 64, &lim<&CoreLimits::max_data_keys>),
    count("max_data_string", "BYTES", "bytes of a string value in data", 1, 1 * KiB,
          &lim<&CoreLimits::max_data_string>),
    count("max_cid", "BYTES", "bytes of a client message id (cid, Idempotency-Key)", 1, kMaxCidBound,
          &lim<&CoreLimits::max_cid>),
    count("max_key", "BYTES", "bytes of a nick's owning key and of a token", 16, 1 * KiB, &lim<&CoreLimits::max_key>),
    count("msg_rate", "N", "messages per second one session may send, sustained", 1, 1000000,
          &lim<&CoreLimits::msg_rate>),
    count("msg_burst", "N", "messages one session may send in a burst", 1, 1000000, &lim<&CoreLimits::msg_burst>),
    count("typing_rate", "N", "typing events per second per session (excess dropped)", 1, 1000,
          &lim<&CoreLimits::typing_rate>),
    count("typing_burst", "N", "typing events in a burst", 1, 1000, &lim<&CoreLimits::typing_burst>),
    count("error_limit", "N", "client errors per minute before the socket is closed", 1, 10000,
          &lim<&CoreLimits::error_limit>),
    count("addr_rate", "N", "HTTP API posts per second per source address, sustained", 1, 1000000,
          &lim<&CoreLimits::addr_rate>),
    count("addr_burst", "N", "HTTP API posts per source address in a burst", 1, 1000000,
          &lim<&CoreLimits::addr_burst>),
    count("max_addresses", "N", "source addresses tracked for rate limits", 1, 65536,
          &lim<&CoreLimits::max_addresses>),
    count("max_devices", "N", "devices tracked (latest values, staleness, series) in all rooms", 1, 4096,
          &lim<&CoreLimits::max_devices>),
    count("keys_per_device", "N", "keys of a device's data whose latest values are kept", 1, 64,
          &lim<&CoreLimits::keys_per_device>),
    count("max_series", "N", "numeric (device, key) series kept with their archives", 0, 65536,
          &lim<&CoreLimits::max_series>),
    count("device_stale_s", "SECONDS", "a device quiet this long is stale; 0: three times its usual interval", 0,
          30 * 86400, &lim<&CoreLimits::device_stale_s>),
    other("device_archives", Kind::archives, "LIST",
          "the archives of every series: STEP:SPAN,... (s, m, h, d), steps ascending, each a multiple of the last"),
};

bool same_key(std::string_view key, const char* name) {
    std::size_t i = 0;
    for (; i < key.size() && name[i] != '\0'; ++i) {
        const char k = key[i] == '-' ? '_' : key[i];
        if (k != name[i]) {
            return false;
        }
    }
    return i == key.size() && name[i] == '\0';
}

std::string quoted(std::string_view v) { return "'" + std::string(v) + "'"; }

// Splits "a,b,c" into trimmed items; false when an item is empty.
bool split_list(std::string_view v, std::vector<std::string_view>& items) {
    while (true) {
        const std::size_t comma = v.find(',');
        const std::string_view item = trim(v.substr(0, comma));
        if (item.empty()) {
            return false;
        }
        items.push_back(item);
        if (comma == std::string_view::npos) {
            return true;
        }
        v.remove_prefix(comma + 1);
    }
}

bool parse_number(const Spec& spec, std::string_view v, std::int64_t& n, std::string& why) {
    const char* end = v.data() + v.size();
    const auto r = std::from_chars(v.data(), end, n);
    if (v.empty() || r.ec != std::errc() || r.ptr != end) {
        why = quoted(v) + " is not a whole number";
        return false;
    }
    if (n < spec.min || n > spec.max) {
        why = std::string(v) + " is out of range (" + std::to_string(spec.min) + " to " + std::to_string(spec.max) +
              ")";
        return false;
    }
    return true;
}

// An Origin as browsers send it: scheme://host[:port], nothing after.
bool origin_valid(std::string_view o) {
    std::string_view rest;
    if (o.substr(0, 7) == "http://") {
        rest = o.substr(7);
    } else if (o.substr(0, 8) == "https://") {
        rest = o.substr(8);
    } else {
        return false;
    }
    if (rest.empty()) {
        return false;
    }
    for (const char c : rest) {
        if (c <= ' ' || c > '~' || c == '/' || c == '?' || c == '#' || c == ',') {
            return false;
        }
    }
    return true;
}

bool parse_rooms(std::string_view v, std::vector<std::string>& rooms, std::string& why) {
    std::vector<std::string_view> items;
    if (!split_list(v, items)) {
        why = "empty room list in " + quoted(v);
        return false;
    }
    rooms.clear();
    for (const std::string_view item : items) {
        char buf[kRoomNameMax];
        const std::string_view room = item == "*" ? item : fold_room_name(item, buf, sizeof buf);
        if (room.empty()) {
            why = quoted(item) + " is not a room name (1 to 32 of a-z 0-9 _ -) or *";
            return false;
        }
        rooms.emplace_back(room);
    }
    return true;
}

bool secret_valid(std::string_view s) {
    if (s.size() < 16 || s.size() > 128) {
        return false;
    }
    for (const char c : s) {
        if (c < '!' || c > '~') {
            return false;
        }
    }
    return true;
}

// "NAME SECRET rooms=a,b read=c write=*": words split by spaces or tabs.
bool parse_token(std::string_view v, const std::vector<TokenSpec>& existing, TokenSpec& t, std::string& why) {
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < v.size();) {
        if (v[i] == ' ' || v[i] == '\t') {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < v.size() && v[j] != ' ' && v[j] != '\t') ++j;
        words.push_back(v.substr(i, j - i));
        i = j;
    }
    if (words.size() < 3) {
        why = quoted(v) + " is not NAME SECRET rooms=ROOMS [read=ROOMS] [write=ROOMS]";
        return false;
    }
    if (!nick_valid(words[0])) {
        why = "name " + quoted(words[0]) + " is not 1 to 24 of A-Z a-z 0-9 _ - .";
        return false;
    }
    if (!secret_valid(words[1])) {
        why = "the secret of " + std::string(words[0]) + " is not 16 to 128 printable ASCII characters without spaces";
        return false;
    }
    t.name = std::string(words[0]);
    t.secret = std::string(words[1]);
    for (std::size_t i = 2; i < words.size(); ++i) {
        const std::string_view w = words[i];
        const std::size_t eq = w.find('=');
        const std::string_view opt = w.substr(0, eq == std::string_view::npos ? w.size() : eq);
        const std::string_view list = eq == std::string_view::npos ? std::string_view() : w.substr(eq + 1);
        const bool read = opt == "rooms" || opt == "read", write = opt == "rooms" || opt == "write";
        if (eq == std::string_view::npos || (!read && !write)) {
            why = quoted(w) + " is not rooms=ROOMS, read=ROOMS or write=ROOMS";
            return false;
        }
        if ((read && !parse_rooms(list, t.read_rooms, why)) || (write && !parse_rooms(list, t.write_rooms, why))) {
            return false;
        }
    }
    for (const TokenSpec& other : existing) {
        if (nick_equal(other.name, t.name)) {
            why = "a token named " + other.name + " is already configured";
            return false;
        }
        if (other.secret == t.secret) {
            why = "the secret of " + t.name + " is already the secret of " + other.name;
            return false;
        }
    }
    return true;
}

std::string format_value(const Spec& spec, Settings& s) {
    switch (spec.kind) {
    case Kind::port:
        return std::to_string(spec.int_field(s));
    case Kind::count:
        return std::to_string(spec.count_field(s));
    case Kind::text:
    case Kind::level:
    case Kind::fsync:
    case Kind::config:
        return s.*spec.text_field;
    case Kind::list: {
        std::string out;
        for (const std::string& o : s.origins) out += (out.empty() ? "" : ",") + o;
        return out;
    }
    case Kind::token:
        break;
    case Kind::archives: {
        std::string out;
        const auto unit = [](std::uint64_t ms) {
            return ms % 86400000 == 0 ? std::to_string(ms / 86400000) + "d"
                   : ms % 3600000 == 0 ? std::to_string(ms / 3600000) + "h"
                   : ms % 60000 == 0   ? std::to_string(ms / 60000) + "m"
                                       : std::to_string(ms / 1000) + "s";
        };
        for (std::uint32_t k = 0; k < s.limits.archives.n; ++k) {
            const Archive& a = s.limits.archives.a[k];
            out += (k == 0 ? "" : ",") + unit(a.step_ms) + ":" + unit(std::uint64_t{a.step_ms} * a.count);
        }
        return out;
    }
    }
    return {};
}

} // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Other names a key answers to: `data_dir` (the name the persistence
// design uses) is `data`.
constexpr struct {
    const char* alias;
    const char* name;
} kAliases[] = {{"data_dir", "data"}};

const Spec* find(std::string_view key) {
    for (const auto& a : kAliases) {
        if (same_key(key, a.alias)) key = a.name;
    }
    for (const Spec& s : kSpecs) {
        if (same_key(key, s.name)) {
            return &s;
        }
    }
    return nullptr;
}

std::string_view name(const Spec& spec) { return spec.name; }
std::string_view value_name(const Spec& spec) { return spec.value_name; }
bool is_config(const Spec& spec) { return spec.kind == Kind::config; }

bool apply(const Spec& spec, std::string_view value, Settings& out, std::string& why) {
    switch (spec.kind) {
    case Kind::port:
    case Kind::count: {
        std::int64_t n = 0;
        if (!parse_number(spec, value, n, why)) {
            return false;
        }
        if (spec.kind == Kind::port) {
            spec.int_field(out) = static_cast<int>(n);
        } else {
            spec.count_field(out) = static_cast<std::uint32_t>(n);
        }
        return true;
    }
    case Kind::level:
        if (value != "error" && value != "warn" && value != "info" && value != "debug") {
            why = quoted(value) + " is not one of error, warn, info, debug";
            return false;
        }
        out.*spec.text_field = std::string(value);
        return true;
    case Kind::fsync:
        if (value != "always" && value != "batch" && value != "never") {
            why = quoted(value) + " is not one of always, batch, never";
            return false;
        }
        out.*spec.text_field = std::string(value);
        return true;
    case Kind::text:
    case Kind::config:
        if (value.empty()) {
            why = "needs a non-empty value";
            return false;
        }
        out.*spec.text_field = std::string(value);
        return true;
    case Kind::list: {
        std::vector<std::string_view> items;
        if (!trim(value).empty() && !split_list(value, items)) {
            why = "empty item in " + quoted(value);
            return false;
        }
        for (const std::string_view o : items) {
            if (o != "*" && !origin_valid(o)) {
                why = quoted(o) + " is not an origin (http://host[:port] or https://host[:port]) or *";
                return false;
            }
        }
        out.origins.assign(items.begin(), items.end());
        return true;
    }
    case Kind::archives: {
        const char* reason = "";
        ArchiveSet parsed;
        if (!parse_archives(trim(value), parsed, reason)) {
            why = quoted(value) + ": " + reason;
            return false;
        }
        out.limits.archives = parsed;
        return true;
    }
    case Kind::token: {
        TokenSpec t;
        if (!parse_token(value, out.tokens, t, why)) {
            return false;
        }
        out.tokens.push_back(std::move(t));
        return true;
    }
    }
    why = "unhandled setting kind";
    return false;
}

} // namespace roost::settings_table

namespace roost {

std::vector<SettingDoc> setting_docs() { return setting_docs_of(Settings{}); }

std::vector<SettingDoc> setting_docs_of(const Settings& values) {
    using namespace settings_table;
    Settings copy = values; // the table's accessors hand out references
    std::vector<SettingDoc> docs;
    for (const Spec& spec : kSpecs) {
        SettingDoc d{spec.name, spec.value_name, spec.help, format_value(spec, copy), {}};
        if (spec.kind == Kind::port || spec.kind == Kind::count) {
            d.bounds = "range " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
        } else if (spec.kind == Kind::level) {
            d.bounds = "one of error, warn, info, debug";
        } else if (spec.kind == Kind::fsync) {
            d.bounds = "one of always, batch, never";
        }
        docs.push_back(std::move(d));
    }
    return docs;
}

std::vector<std::pair<std::string_view, std::string>> setting_values(const Settings& s) {
    using namespace settings_table;
    Settings copy = s; // the rows reach their fields through non-const accessors
    std::vector<std::pair<std::string_view, std::string>> values;
    for (const Spec& spec : kSpecs) values.emplace_back(spec.name, format_value(spec, copy));
    return values;
}

} // namespace roost
