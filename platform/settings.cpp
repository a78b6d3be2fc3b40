// The two front ends of the settings table (command line, config file), the
// checks across settings, and the token look-ups. Every value goes through
// settings_table::apply(), whichever front end it came from.
#include "platform/settings.h"

#include "broker/reserve.h"

#include "platform/settings_table.h"

#include <cstring>

namespace roost {
namespace {

namespace table = settings_table;
using table::trim;

ArgsResult fail(std::string message) { return ArgsResult{ArgsAction::error, std::move(message)}; }

std::string flag_of(std::string_view name) {
    std::string s = "--";
    for (const char c : name) {
        s += c == '_' ? '-' : c;
    }
    return s;
}

bool is_help(const char* a) { return std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0; }
bool is_version(const char* a) { return std::strcmp(a, "--version") == 0 || std::strcmp(a, "-V") == 0; }

// A flag `--name[=value]` split into its parts; spec is nullptr when the
// name is not a setting.
struct Flag {
    std::string_view name;
    const table::Spec* spec = nullptr;
    bool has_value = false; // `=` given
    std::string_view value;
};

Flag split_flag(const char* arg) {
    Flag f;
    const std::string_view a(arg + 2);
    const std::size_t eq = a.find('=');
    f.name = a.substr(0, eq);
    f.spec = table::find(f.name);
    if (eq != std::string_view::npos) {
        f.has_value = true;
        f.value = a.substr(eq + 1);
    }
    return f;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The value part of a config line, after '=': quotes removed, a trailing
// comment (a '#' after whitespace) dropped. False with `why` when a quote
// is not closed or text follows it.
bool config_value(std::string_view raw, std::string_view& value, std::string& why) {
    raw = trim(raw);
    if (!raw.empty() && raw.front() == '"') {
        const std::size_t close = raw.find('"', 1);
        if (close == std::string_view::npos) {
            why = "the quote is not closed";
            return false;
        }
        const std::string_view rest = trim(raw.substr(close + 1));
        if (!rest.empty() && rest.front() != '#') {
            why = "text after the closing quote";
            return false;
        }
        value = raw.substr(1, close - 1);
        return true;
    }
    if (!raw.empty() && raw.front() == '#') {
        value = {};
        return true;
    }
    for (std::size_t i = 1; i < raw.size(); ++i) {
        if (raw[i] == '#' && is_blank(raw[i - 1])) {
            raw = raw.substr(0, i);
            break;
        }
    }
    value = trim(raw);
    return true;
}

std::string num(std::uint64_t n) { return std::to_string(n); }

} // namespace

ArgsResult parse_args(int argc, const char* const* argv, Settings& out) {
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        if (is_help(arg)) {
            return ArgsResult{ArgsAction::help, {}};
        }
        if (is_version(arg)) {
            return ArgsResult{ArgsAction::version, {}};
        }
        if (std::strncmp(arg, "--", 2) != 0) {
            return fail(std::string("unexpected argument '") + arg + "' (see --help)");
        }
        const Flag f = split_flag(arg);
        if (f.spec == nullptr) {
            return fail("unknown flag '--" + std::string(f.name) + "' (see --help)");
        }
        const std::string flag = flag_of(table::name(*f.spec));
        std::string_view value = f.value;
        if (!f.has_value) {
            if (i + 1 >= argc) {
                return fail(flag + ": missing value " + std::string(table::value_name(*f.spec)));
            }
            value = argv[++i];
        }
        std::string why;
        if (!table::apply(*f.spec, value, out, why)) {
            return fail(flag + ": " + why);
        }
    }
    return check_settings(out);
}

std::string_view config_path_from_args(int argc, const char* const* argv) {
    std::string_view path;
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        // Where parse_args() would stop, the file does not matter.
        if (is_help(arg) || is_version(arg) || std::strncmp(arg, "--", 2) != 0) {
            return {};
        }
        const Flag f = split_flag(arg);
        if (f.spec == nullptr) {
            return {};
        }
        std::string_view value = f.value;
        if (!f.has_value) {
            if (i + 1 >= argc) {
                return {};
            }
            value = argv[++i];
        }
        if (table::is_config(*f.spec)) {
            path = value;
        }
    }
    return path;
}

ArgsResult parse_config(std::string_view text, std::string_view file_name, Settings& out) {
    unsigned line_no = 0;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        line = trim(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::string where = std::string(file_name) + ":" + std::to_string(line_no) + ": ";
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            return fail(where + "'" + std::string(line) + "' is not key = value");
        }
        const std::string_view key = trim(line.substr(0, eq));
        if (key.empty()) {
            return fail(where + "no key before '='");
        }
        const table::Spec* spec = table::find(key);
        if (spec == nullptr) {
            return fail(where + std::string(key) + ": unknown key (see roost --help)");
        }
        const std::string name(table::name(*spec));
        if (table::is_config(*spec)) {
            return fail(where + name + ": only on the command line (a config file cannot name another)");
        }
        std::string_view value;
        std::string why;
        if (!config_value(line.substr(eq + 1), value, why) || !table::apply(*spec, value, out, why)) {
            return fail(where + name + ": " + why);
        }
    }
    return {};
}

ArgsResult check_settings(const Settings& s) {
    const CoreLimits& L = s.limits;
    if (s.tls_cert.empty() != s.tls_key.empty()) {
        return fail("tls_cert and tls_key (--tls-cert, --tls-key) go together: give both or neither");
    }
    if (s.http_port == -1 && s.https_port == -1) {
        return fail("http_port and https_port are both -1: nothing to listen on");
    }
    // A room's ring must hold the largest event one message can encode to.
    const std::uint64_t ring_need = max_event_bytes(L) + L.headroom + 64;
    if (L.ring_bytes < ring_need) {
        return fail("ring_bytes " + num(L.ring_bytes) + " cannot hold one message of max_text " + num(L.max_text) +
                    " bytes with max_data_keys " + num(L.max_data_keys) + " x max_data_string " +
                    num(L.max_data_string) + " and max_cid " + num(L.max_cid) + ": it needs at least " +
                    num(ring_need) + " (raise ring_bytes or lower those)");
    }
    if (L.device_ring_bytes != 0 && L.device_ring_bytes < ring_need) {
        return fail("device_ring_bytes " + num(L.device_ring_bytes) + " cannot hold one reading of max_text " +
                    num(L.max_text) + " bytes with max_data_keys " + num(L.max_data_keys) + " x max_data_string " +
                    num(L.max_data_string) + ": it needs at least " + num(ring_need));
    }
    const std::uint64_t frame_need = std::uint64_t{L.max_text} + 512; // the say around the text: type, room, cid
    if (L.max_frame < frame_need) {
        return fail("max_frame " + num(L.max_frame) + " cannot carry a say of max_text " + num(L.max_text) +
                    " bytes: it needs at least " + num(frame_need) + " (max_text + 512)");
    }
    if (L.max_body < L.max_text) {
        return fail("max_body " + num(L.max_body) + " is below max_text " + num(L.max_text) +
                    ": an HTTP post could not carry the longest text");
    }
    // Every answer to a frame must fit a session's control buffer (the
    // platform stops reading a session until there is room for one).
    if (L.control_bytes < reply_reserve_bytes(L)) {
        return fail("control_bytes " + num(L.control_bytes) + " cannot hold the answer to one frame with max_cid " +
                    num(L.max_cid) + ": it needs at least " + num(reply_reserve_bytes(L)));
    }
    // The core reserves everything at start; keep it within what a small
    // board (and a 32-bit address space) can give, and name what takes it.
    const std::vector<ReservePart> parts = core_reserve(L);
    const std::uint64_t reserve = total_bytes(parts);
    if (reserve > kMaxReserve) {
        std::string biggest;
        for (std::size_t i = 0; i < parts.size() && i < 2; ++i) {
            biggest += (i > 0 ? ", " : "") + parts[i].what + " " + num(parts[i].bytes >> 20) + " MiB";
        }
        return fail("the settings would reserve " + num(reserve >> 20) + " MiB of memory, more than " +
                    num(kMaxReserve >> 20) + " MiB; most of it: " + biggest);
    }
    for (const TokenSpec& t : s.tokens) {
        if (t.secret.size() > L.max_key) {
            return fail("token " + t.name + ": its secret is longer than max_key (" + num(L.max_key) + " bytes)");
        }
    }
    return {};
}

bool token_allows(const TokenSpec& token, std::string_view room, bool write) {
    if (room.empty() || room.front() == '@') {
        return false;
    }
    for (const std::string& r : write ? token.write_rooms : token.read_rooms) {
        if (r == "*" || r == room) {
            return true;
        }
    }
    return false;
}

const TokenSpec* find_token(const Settings& s, std::string_view secret) {
    // Every token and every byte is visited, so the time tells neither which
    // token nor how much of a secret matched.
    const TokenSpec* found = nullptr;
    for (const TokenSpec& t : s.tokens) {
        unsigned diff = t.secret.size() != secret.size() ? 1u : 0u;
        for (std::size_t i = 0; i < t.secret.size(); ++i) {
            const unsigned char given = i < secret.size() ? static_cast<unsigned char>(secret[i]) : 0;
            diff |= static_cast<unsigned>(given ^ static_cast<unsigned char>(t.secret[i]));
        }
        if (diff == 0 && !secret.empty()) {
            found = &t;
        }
    }
    return found;
}

std::string help_text(const char* program) {
    std::string s = "Usage: ";
    s += program;
    s += " [options]\n\nRoost, a tiny chat broker for small Linux boards.\n\n"
         "Options (each is also a key of the --config file, e.g. max_rooms = 64):\n";
    for (const SettingDoc& d : setting_docs()) {
        std::string left = "  " + flag_of(d.name) + " " + std::string(d.value_name);
        left.resize(left.size() < 30 ? 30 : left.size() + 1, ' ');
        s += left + std::string(d.help);
        if (!d.default_value.empty() || !d.bounds.empty()) {
            s += " (";
            if (!d.default_value.empty()) s += "default " + d.default_value;
            if (!d.default_value.empty() && !d.bounds.empty()) s += "; ";
            s += d.bounds;
            s += ")";
        }
        s += "\n";
    }
    s += "  -h, --help                  this text\n";
    s += "  -V, --version               print the versions of Roost, libwebsockets and mbedTLS\n";
    s += "\nFlags override the config file. Exit codes: 0 clean shutdown, 1 runtime failure\n"
         "(e.g. port in use), 2 bad usage or settings.\n";
    return s;
}

} // namespace roost
