// Runtime settings: one table of every setting (name, type, default, bounds,
// help) and a pure parser for command-line flags against that table.
// No files are read here: the platform reads a config file and feeds its
// lines through the same table (a later step).
#pragma once

#include <cstdint>
#include <string>

namespace roost {

// Every runtime setting, with its default. Ports may be 0: the OS then picks a
// free port and the broker prints the one it got (the tests use this).
struct Settings {
    std::string bind;          // listen address; empty = every address, IPv4 and IPv6
    int http_port = 8080;      // plain HTTP + WebSocket; -1 turns it off
    int https_port = 8443;     // HTTPS + secure WebSocket; -1 turns it off
    std::string data_dir;      // empty = run from memory (nothing kept)
    std::string tls_cert;      // PEM certificate; empty = make our own local CA
    std::string tls_key;       // PEM private key for tls_cert
    std::string log_level = "info"; // error | warn | info | debug
};

// What the caller should do after parsing the command line.
enum class ArgsAction : std::uint8_t { run, help, version, error };

struct ArgsResult {
    ArgsAction action = ArgsAction::run;
    std::string message; // for `error`: one line naming the flag and what is wrong
};

// Parses argv[1..argc) into `out`, starting from the values already in `out`.
// Flags are `--name VALUE` or `--name=VALUE` (the setting's name with '-' for
// '_'), plus `--help`/`-h` and `--version`/`-V`. Stops at the first problem.
[[nodiscard]] ArgsResult parse_args(int argc, const char* const* argv, Settings& out);

// The --help text, generated from the settings table.
[[nodiscard]] std::string help_text(const char* program);

} // namespace roost
