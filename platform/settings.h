// Runtime settings: one table of every setting (name, type, default, bounds,
// help; platform/settings_table.cpp) and pure parsers that feed values through
// it, so a config file and the command line share one validation path.
//
//   config file   `key = value` lines (parse_config); the keys are the
//                 setting names, '-' accepted for '_'
//   command line  `--key VALUE` / `--key=VALUE` (parse_args)
//
// Precedence: the caller parses the file first, then the flags on top of the
// same Settings (flags win; `token` appends from both). parse_args() ends
// with check_settings(), the checks that relate several settings, so they
// see the merged result. No files are read here: platform/config.h does that.
#pragma once

#include "broker/limits.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roost {

// A device token: a bearer secret that may read and/or write some rooms.
// Room lists hold canonical (lower-case) room names, or "*" for every plain
// room. Tokens never grant direct-message rooms.
struct TokenSpec {
    std::string name;   // like a nick: shown as the sender of its posts
    std::string secret; // 16..128 printable ASCII characters, no spaces
    std::vector<std::string> read_rooms;
    std::vector<std::string> write_rooms;
};

// Every runtime setting, with its default. Ports may be 0: the OS then picks a
// free port and the broker prints the one it got (the tests use this).
struct Settings {
    std::string bind;          // listen address; empty = every address, IPv4 and IPv6
    int http_port = 8080;      // plain HTTP + WebSocket; -1 turns it off
    int https_port = 8443;     // HTTPS + secure WebSocket; -1 turns it off
    std::string data_dir;      // empty = run from memory (nothing kept)
    std::string tls_cert;      // PEM certificate; empty = make our own local CA
    std::string tls_key;       // PEM private key for tls_cert
    std::string fsync = "batch";    // always | batch | never: when journal writes are synced
    std::uint32_t fsync_ms = 200;   // batch: the group-commit window
    std::string mqtt_url;           // the MQTT bridge: empty = off (platform/mqtt_bridge.cpp)
    std::string mqtt_client_id;     // empty = "roost-" + 8 random letters
    std::string mqtt_user, mqtt_password, mqtt_ca, mqtt_cert, mqtt_key;
    std::string mqtt_prefix = "roost";
    std::string mqtt_rooms = "*";   // comma-separated room names, or * for every plain room
    std::uint32_t mqtt_qos = 1;
    std::string timezone;           // zone of /remind at; empty = the system's (TZ, /etc/localtime)
    std::string log_level = "info"; // error | warn | info | debug
    CoreLimits limits;         // every core capacity (headroom is the platform's, not a setting)
    std::uint32_t max_connections = 1024;   // open connections of every kind (HTTP, WS, SSE)
    std::uint32_t max_per_address = 64;     // open connections from one source address
    std::uint32_t handshake_timeout_s = 10; // seconds to finish TLS + HTTP headers
    std::uint32_t idle_timeout_s = 120;     // seconds a silent WebSocket lives; pinged at half of it
    std::vector<std::string> origins;       // WebSocket Origin allow-list; empty = same host only, "*" = any
    std::vector<TokenSpec> tokens;          // empty = no token needed
    std::string config_file;                // the --config FILE the settings were read from, if any
};

// What the caller should do after parsing.
enum class ArgsAction : std::uint8_t { run, help, version, error };

struct ArgsResult {
    ArgsAction action = ArgsAction::run;
    std::string message; // for `error`: one line naming the flag (or file:line: key) and what is wrong
};

// Parses argv[1..argc) into `out`, starting from the values already in `out`
// (the defaults, or what a config file set). Flags are `--name VALUE` or
// `--name=VALUE` (the setting's name with '-' for '_'), plus `--help`/`-h`
// and `--version`/`-V`. `--config FILE` is only recorded in out.config_file:
// the caller reads that file before (config_path_from_args). Stops at the
// first problem; ends with check_settings().
[[nodiscard]] ArgsResult parse_args(int argc, const char* const* argv, Settings& out);

// The FILE of the last `--config FILE` / `--config=FILE` in argv, without
// applying anything; empty when there is none (or it has no value, which
// parse_args then reports). Skips the values of other flags, so
// `--bind --config` is not mistaken for it. Views into argv.
[[nodiscard]] std::string_view config_path_from_args(int argc, const char* const* argv);

// Parses a config file's text into `out`: one `key = value` per line; blank
// lines and `#` comments (whole-line, or trailing after whitespace) are
// ignored; a value may be wrapped in double quotes (needed when it holds
// " #"); no escapes. Errors read `FILE:LINE: key: what is wrong`. Stops at
// the first problem. Does not run check_settings() (the flags come next).
[[nodiscard]] ArgsResult parse_config(std::string_view text, std::string_view file_name, Settings& out);

// The most the core may reserve at start (broker/reserve.h), whatever the
// settings: 1 GiB, within reach of a 32-bit board's address space.
inline constexpr std::uint64_t kMaxReserve = std::uint64_t{1} << 30;

// The checks that relate several settings (certificate and key together,
// something to listen on, rings that hold a largest message, answers that
// fit, the whole reservation, ...).
[[nodiscard]] ArgsResult check_settings(const Settings& s);

// True when the token may read (write = false) or post to (write = true) the
// canonical room name `room`. Direct-message rooms ("@...") are never allowed.
[[nodiscard]] bool token_allows(const TokenSpec& token, std::string_view room, bool write);

// The configured token whose secret is `secret`, or nullptr. Every secret is
// compared in constant time (the time does not depend on where they differ).
[[nodiscard]] const TokenSpec* find_token(const Settings& s, std::string_view secret);

// One row of the settings table as text, for --help, roost.conf and tests.
struct SettingDoc {
    std::string_view name;       // the config key; the flag is "--" + name with '-' for '_'
    std::string_view value_name; // PORT, N, FILE, ...
    std::string_view help;       // one line
    std::string default_value;   // as it would be written in the config file ("" when empty)
    std::string bounds;          // "1 to 4096" for numbers, else "" (or the accepted words)
};

// Every setting, in table order.
[[nodiscard]] std::vector<SettingDoc> setting_docs();
// The same rows with `values`' values in default_value (to compare two
// Settings setting by setting).
[[nodiscard]] std::vector<SettingDoc> setting_docs_of(const Settings& values);

// Every setting's name and its value in `s`, in table order, as a config
// file line would give it ("" when empty; tokens, which take a line each,
// read ""). For tests: a round trip through the config file.
[[nodiscard]] std::vector<std::pair<std::string_view, std::string>> setting_values(const Settings& s);

// The --help text, generated from the settings table.
[[nodiscard]] std::string help_text(const char* program);

} // namespace roost
