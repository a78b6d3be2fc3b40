#include "broker/settings.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace roost {
namespace {

enum class Kind : std::uint8_t { integer, text, level };

// One row per setting. `min`/`max` bound integers; `text_field` or
// `int_field` says where the value goes.
struct SettingSpec {
    const char* name;
    Kind kind;
    const char* value_name;
    const char* help;
    long min;
    long max;
    int Settings::*int_field;
    std::string Settings::*text_field;
};

const SettingSpec kSettings[] = {
    {"bind", Kind::text, "ADDR", "listen address (default: every IPv4 and IPv6 address)", 0, 0,
     nullptr, &Settings::bind},
    {"http_port", Kind::integer, "PORT", "HTTP and ws:// port; 0 = any free port, -1 = off (default 8080)",
     -1, 65535, &Settings::http_port, nullptr},
    {"https_port", Kind::integer, "PORT", "HTTPS and wss:// port; 0 = any free port, -1 = off (default 8443)",
     -1, 65535, &Settings::https_port, nullptr},
    {"data", Kind::text, "DIR", "data directory (certificates); default: none, run from memory", 0, 0,
     nullptr, &Settings::data_dir},
    {"tls_cert", Kind::text, "FILE", "PEM server certificate (default: make a local CA and certificate)",
     0, 0, nullptr, &Settings::tls_cert},
    {"tls_key", Kind::text, "FILE", "PEM private key of --tls-cert", 0, 0, nullptr, &Settings::tls_key},
    {"log_level", Kind::level, "LEVEL", "error, warn, info or debug (default info)", 0, 0, nullptr,
     &Settings::log_level},
};

// "--http-port" matches "http_port".
bool flag_matches(const char* flag, std::size_t len, const char* name) {
    if (std::strlen(name) != len) {
        return false;
    }
    for (std::size_t i = 0; i < len; ++i) {
        const char want = name[i] == '_' ? '-' : name[i];
        if (flag[i] != want) {
            return false;
        }
    }
    return true;
}

std::string flag_of(const char* name) {
    std::string s = "--";
    for (const char* p = name; *p; ++p) {
        s += *p == '_' ? '-' : *p;
    }
    return s;
}

ArgsResult fail(std::string message) {
    return ArgsResult{ArgsAction::error, std::move(message)};
}

ArgsResult apply(const SettingSpec& spec, const char* value, Settings& out) {
    const std::string flag = flag_of(spec.name);
    switch (spec.kind) {
    case Kind::integer: {
        errno = 0;
        char* end = nullptr;
        const long v = std::strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno != 0) {
            return fail(flag + ": '" + value + "' is not a whole number");
        }
        if (v < spec.min || v > spec.max) {
            return fail(flag + ": " + value + " is out of range (" + std::to_string(spec.min) + " to " +
                        std::to_string(spec.max) + ")");
        }
        out.*spec.int_field = static_cast<int>(v);
        return {};
    }
    case Kind::level:
        if (std::strcmp(value, "error") != 0 && std::strcmp(value, "warn") != 0 &&
            std::strcmp(value, "info") != 0 && std::strcmp(value, "debug") != 0) {
            return fail(flag + ": '" + value + "' is not one of error, warn, info, debug");
        }
        out.*spec.text_field = value;
        return {};
    case Kind::text:
        if (*value == '\0') {
            return fail(flag + ": needs a non-empty value");
        }
        out.*spec.text_field = value;
        return {};
    }
    return fail(flag + ": unhandled setting kind");
}

} // namespace

ArgsResult parse_args(int argc, const char* const* argv, Settings& out) {
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
            return ArgsResult{ArgsAction::help, {}};
        }
        if (std::strcmp(arg, "--version") == 0 || std::strcmp(arg, "-V") == 0) {
            return ArgsResult{ArgsAction::version, {}};
        }
        if (std::strncmp(arg, "--", 2) != 0) {
            return fail(std::string("unexpected argument '") + arg + "' (see --help)");
        }
        const char* name = arg + 2;
        const char* eq = std::strchr(name, '=');
        const std::size_t len = eq ? static_cast<std::size_t>(eq - name) : std::strlen(name);
        const SettingSpec* spec = nullptr;
        for (const SettingSpec& s : kSettings) {
            if (flag_matches(name, len, s.name)) {
                spec = &s;
                break;
            }
        }
        if (spec == nullptr) {
            return fail(std::string("unknown flag '") + std::string(arg, eq ? static_cast<std::size_t>(eq - arg)
                                                                              : std::strlen(arg)) +
                        "' (see --help)");
        }
        const char* value = nullptr;
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return fail(flag_of(spec->name) + ": missing value " + spec->value_name);
        }
        ArgsResult r = apply(*spec, value, out);
        if (r.action == ArgsAction::error) {
            return r;
        }
    }
    if (out.tls_cert.empty() != out.tls_key.empty()) {
        return fail("--tls-cert and --tls-key go together: give both or neither");
    }
    if (out.http_port == -1 && out.https_port == -1) {
        return fail("--http-port and --https-port are both -1: nothing to listen on");
    }
    return {};
}

std::string help_text(const char* program) {
    std::string s = "Usage: ";
    s += program;
    s += " [options]\n\nRoost, a tiny chat broker for small Linux boards.\n\nOptions:\n";
    for (const SettingSpec& spec : kSettings) {
        std::string left = "  " + flag_of(spec.name) + " " + spec.value_name;
        if (left.size() < 26) {
            left.resize(26, ' ');
        } else {
            left += ' ';
        }
        s += left + spec.help + "\n";
    }
    s += "  -h, --help                this text\n";
    s += "  -V, --version             print the versions of Roost, libwebsockets and mbedTLS\n";
    s += "\nExit codes: 0 clean shutdown, 1 runtime failure (e.g. port in use), 2 bad usage.\n";
    return s;
}

} // namespace roost
