// Tests for platform/settings.cpp and platform/settings_table.cpp: every flag
// form, every key's bounds (driven by the table itself), config syntax,
// tokens, origins, precedence and the checks across settings.
#include "broker/reserve.h"
#include "platform/settings.h"

#include "tests/support/unit.h"

namespace {

using roost::ArgsAction;
using roost::ArgsResult;
using roost::Settings;

ArgsResult parse(std::vector<const char*> args, Settings& s) {
    args.insert(args.begin(), "roost");
    return roost::parse_args(static_cast<int>(args.size()), args.data(), s);
}

ArgsResult conf(const std::string& text, Settings& s) { return roost::parse_config(text, "roost.conf", s); }

std::string flag_of(std::string_view name) {
    std::string f = "--";
    for (const char c : name) f += c == '_' ? '-' : c;
    return f;
}

void expect_action(const ArgsResult& r, ArgsAction want, const std::string& what) {
    if (r.action != want) {
        fail_msg("%s: action %d, want %d (message '%s')", what.c_str(), static_cast<int>(r.action),
                 static_cast<int>(want), r.message.c_str());
    }
}

void expect_error(const ArgsResult& r, const std::string& part, const std::string& what) {
    expect_action(r, ArgsAction::error, what);
    if (r.message.find(part) == std::string::npos) {
        fail_msg("%s: message '%s' lacks '%s'", what.c_str(), r.message.c_str(), part.c_str());
    }
}

void defaults_are_documented_values(void**) {
    Settings s;
    expect_action(parse({}, s), ArgsAction::run, "no flags");
    assert_int_equal(s.http_port, 8080);
    assert_int_equal(s.https_port, 8443);
    assert_true(s.bind.empty());
    assert_true(s.data_dir.empty());
    assert_string_equal(s.log_level.c_str(), "info");
    assert_string_equal(s.fsync.c_str(), "batch");
    assert_int_equal(s.fsync_ms, 200);
    assert_int_equal(s.max_connections, 1024);
    assert_int_equal(s.max_per_address, 64);
    assert_int_equal(s.handshake_timeout_s, 10);
    assert_int_equal(s.idle_timeout_s, 120);
    assert_true(s.origins.empty());
    assert_true(s.tokens.empty());
    assert_int_equal(s.limits.max_rooms, roost::CoreLimits{}.max_rooms);
}

void both_flag_forms_set_values(void**) {
    Settings s;
    expect_action(parse({"--http-port", "0", "--https-port=9443", "--bind", "127.0.0.1", "--data=/tmp/x", "--log-level",
                         "debug", "--max_rooms", "9"},
                        s),
                  ArgsAction::run, "flags");
    assert_int_equal(s.http_port, 0);
    assert_int_equal(s.https_port, 9443);
    assert_string_equal(s.bind.c_str(), "127.0.0.1");
    assert_string_equal(s.data_dir.c_str(), "/tmp/x");
    assert_string_equal(s.log_level.c_str(), "debug");
    assert_int_equal(s.limits.max_rooms, 9);
}

void help_and_version(void**) {
    Settings s;
    expect_action(parse({"--help"}, s), ArgsAction::help, "--help");
    expect_action(parse({"-h"}, s), ArgsAction::help, "-h");
    expect_action(parse({"--version"}, s), ArgsAction::version, "--version");
    expect_action(parse({"-V"}, s), ArgsAction::version, "-V");
    const std::string help = roost::help_text("roost");
    for (const char* flag : {"--version", "--help", "--config FILE", "--token SPEC"}) {
        assert_non_null(std::strstr(help.c_str(), flag));
    }
    // Every row, with its default and bounds, comes from the table.
    for (const roost::SettingDoc& d : roost::setting_docs()) {
        const std::string flag = flag_of(d.name) + " " + std::string(d.value_name);
        if (help.find(flag) == std::string::npos) fail_msg("help lacks %s", flag.c_str());
        if (!d.default_value.empty() && help.find("default " + d.default_value) == std::string::npos) {
            fail_msg("help lacks the default of %s", flag.c_str());
        }
        if (!d.bounds.empty() && help.find(d.bounds) == std::string::npos) {
            fail_msg("help lacks the bounds of %s", flag.c_str());
        }
    }
}

struct BadCase {
    std::vector<const char*> args;
    const char* message_part; // the message must name the problem
};

void bad_flags_are_errors_naming_the_flag(void**) {
    const std::vector<BadCase> cases = {
        {{"--nope"}, "unknown flag '--nope'"},
        {{"--nope=3"}, "unknown flag '--nope'"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"--http-port"}, "--http-port: missing value PORT"},
        {{"--http-port", "abc"}, "--http-port: 'abc' is not a whole number"},
        {{"--http-port", "80x"}, "is not a whole number"},
        {{"--http-port="}, "is not a whole number"},
        {{"--http-port", "65536"}, "--http-port: 65536 is out of range (-1 to 65535)"},
        {{"--https-port", "-2"}, "--https-port: -2 is out of range"},
        {{"--http-port", "99999999999999999999"}, "is not a whole number"},
        {{"--max-rooms", " 5"}, "--max-rooms: ' 5' is not a whole number"},
        {{"--log-level", "loud"}, "--log-level: 'loud' is not one of"},
        {{"--data", ""}, "--data: needs a non-empty value"},
        {{"--config"}, "--config: missing value FILE"},
        {{"--config="}, "--config: needs a non-empty value"},
        {{"--token", "x"}, "--token: 'x' is not NAME SECRET"},
        {{"--origins", "chat.example.org"}, "--origins: 'chat.example.org' is not an origin"},
    };
    for (const BadCase& c : cases) {
        Settings s;
        expect_error(parse(c.args, s), c.message_part, c.args[0]);
    }
}

void later_flag_wins(void**) {
    Settings s;
    expect_action(parse({"--http-port", "1", "--http-port", "2"}, s), ArgsAction::run, "twice");
    assert_int_equal(s.http_port, 2);
}

// Every numeric key, through both front ends: its bounds are accepted, one
// beyond them and a non-number are refused with the documented message.
void every_numeric_key_checks_its_bounds(void**) {
    int numeric = 0;
    for (const roost::SettingDoc& d : roost::setting_docs()) {
        if (d.bounds.rfind("range ", 0) != 0) continue;
        ++numeric;
        const std::string key(d.name), flag = flag_of(d.name);
        long long lo = 0, hi = 0;
        assert_int_equal(std::sscanf(d.bounds.c_str(), "range %lld to %lld", &lo, &hi), 2);
        const std::string range = "(" + std::to_string(lo) + " to " + std::to_string(hi) + ")";
        for (const long long v : {lo, hi}) {
            Settings s;
            expect_action(conf("\n" + key + " = " + std::to_string(v) + "\n", s), ArgsAction::run, key);
        }
        for (const long long v : {lo - 1, hi + 1}) {
            const std::string value = std::to_string(v);
            Settings s;
            expect_error(conf("# c\n\n" + key + " = " + value, s),
                         "roost.conf:3: " + key + ": " + value + " is out of range " + range, key);
            expect_error(parse({flag.c_str(), value.c_str()}, s), flag + ": " + value + " is out of range " + range,
                         flag);
        }
        for (const char* bad : {"abc", "12abc", "1.5", "", "0x10", "+1"}) {
            Settings s;
            const std::string want = "roost.conf:1: " + key + ": '" + bad + "' is not a whole number";
            expect_error(conf(key + " =" + bad + "\n", s), want, key + "=" + bad);
        }
        // '-' for '_' in the file too.
        std::string dashed = flag.substr(2);
        Settings s;
        expect_action(conf(dashed + "=" + std::to_string(hi), s), ArgsAction::run, dashed);
    }
    assert_int_equal(numeric, 43); // 63 rows but 20 of text: bind, data, tls_cert, tls_key, fsync, 9 mqtt texts, timezone, log_level, config, origins, token
}

// Each numeric key lands in its own field (no two rows share one).
void every_numeric_key_sets_its_field(void**) {
    struct Field {
        const char* key;
        std::uint32_t (*get)(const Settings&);
    };
#define ROOST_LIMIT(f) {#f, [](const Settings& s) { return s.limits.f; }}
#define ROOST_TOP(f) {#f, [](const Settings& s) { return static_cast<std::uint32_t>(s.f); }}
    const Field fields[] = {
        ROOST_TOP(http_port), ROOST_TOP(https_port), ROOST_TOP(max_connections), ROOST_TOP(max_per_address),
        ROOST_TOP(handshake_timeout_s), ROOST_TOP(idle_timeout_s), ROOST_TOP(fsync_ms), ROOST_TOP(mqtt_qos), ROOST_LIMIT(max_rooms), ROOST_LIMIT(ring_msgs),
        ROOST_LIMIT(ring_bytes), ROOST_LIMIT(device_ring_msgs), ROOST_LIMIT(device_ring_bytes), ROOST_LIMIT(max_sessions), ROOST_LIMIT(max_nicks), ROOST_LIMIT(rooms_per_session),
        ROOST_LIMIT(reads_per_room), ROOST_LIMIT(max_timers), ROOST_LIMIT(max_reminders),
        ROOST_LIMIT(reminders_per_nick), ROOST_LIMIT(max_watches), ROOST_LIMIT(max_text), ROOST_LIMIT(max_frame),
        ROOST_LIMIT(max_body), ROOST_LIMIT(backlog), ROOST_LIMIT(batch_bytes), ROOST_LIMIT(control_bytes),
        ROOST_LIMIT(max_data_keys), ROOST_LIMIT(max_data_string), ROOST_LIMIT(max_cid), ROOST_LIMIT(max_key),
        ROOST_LIMIT(msg_rate), ROOST_LIMIT(msg_burst), ROOST_LIMIT(typing_rate), ROOST_LIMIT(typing_burst),
        ROOST_LIMIT(error_limit), ROOST_LIMIT(addr_rate), ROOST_LIMIT(addr_burst), ROOST_LIMIT(max_addresses),
        ROOST_LIMIT(max_devices), ROOST_LIMIT(keys_per_device), ROOST_LIMIT(max_series), ROOST_LIMIT(device_stale_s),
    };
#undef ROOST_LIMIT
#undef ROOST_TOP
    // The CoreLimits fields that are no numeric setting: headroom, and the
    // archives (the device_archives setting, a list).
    assert_int_equal(sizeof(roost::CoreLimits),
                     sizeof(std::uint32_t) * (sizeof fields / sizeof fields[0] - 8 + 1) + sizeof(roost::ArchiveSet));
    for (const Field& f : fields) {
        Settings s;
        const Settings before;
        // One step from the default: up, or down for a default at the top of its range.
        std::uint32_t want = f.get(before) + 1;
        if (conf(std::string(f.key) + " = " + std::to_string(want), s).action != ArgsAction::run) want -= 2;
        s = Settings{};
        expect_action(conf(std::string(f.key) + " = " + std::to_string(want), s), ArgsAction::run, f.key);
        if (f.get(s) != want) fail_msg("%s did not land in its field", f.key);
        for (const Field& other : fields) {
            if (&other != &f && other.get(s) != other.get(before)) fail_msg("%s changed %s", f.key, other.key);
        }
    }
}

struct ConfCase {
    const char* text;
    const char* message_part; // nullptr: parses
};

void config_syntax(void**) {
    const ConfCase cases[] = {
        {"", nullptr},
        {"\n\n   \n\t\n", nullptr},
        {"# only a comment\n   # indented comment\n", nullptr},
        {"http_port = 1\r\nhttps_port = 2\r\n", nullptr},
        {"no_equals_sign", "roost.conf:1: 'no_equals_sign' is not key = value"},
        {"\n = 5", "roost.conf:2: no key before '='"},
        {"# x\nnope = 1", "roost.conf:2: nope: unknown key"},
        {"config = /etc/roost.conf", "roost.conf:1: config: only on the command line"},
        {"data = \"/tmp/x", "roost.conf:1: data: the quote is not closed"},
        {"data = \"/tmp/x\" y", "roost.conf:1: data: text after the closing quote"},
        {"data =", "roost.conf:1: data: needs a non-empty value"},
        {"data = # nothing", "roost.conf:1: data: needs a non-empty value"},
        {"data = \"\"", "roost.conf:1: data: needs a non-empty value"},
        {"log_level = loud # comment", "roost.conf:1: log_level: 'loud' is not one of"},
        {"fsync = sometimes", "roost.conf:1: fsync: 'sometimes' is not one of always, batch, never"},
        {"fsync = ALWAYS", "roost.conf:1: fsync: 'ALWAYS' is not one of always, batch, never"},
        {"fsync = always", nullptr},
        {"fsync = never\nfsync_ms = 5", nullptr},
        {"http_port = 1\nhttp_port = x", "roost.conf:2: http_port: 'x' is not a whole number"},
        {"max-rooms = 3 = 4", "roost.conf:1: max_rooms: '3 = 4' is not a whole number"},
    };
    for (const ConfCase& c : cases) {
        Settings s;
        const ArgsResult r = conf(c.text, s);
        if (c.message_part == nullptr) {
            expect_action(r, ArgsAction::run, c.text);
        } else {
            expect_error(r, c.message_part, c.text);
        }
    }
    Settings s;
    expect_action(conf("  bind=10.0.0.1   # trailing comment\n"
                       "data = \"/srv/a #b\"   # quoted keeps the ' #'\n"
                       "tls_cert = /x#y\n"
                       "tls-key = \"/k\"\n"
                       "log_level = warn\n"
                       "fsync = always\n",
                       s),
                  ArgsAction::run, "values");
    assert_string_equal(s.bind.c_str(), "10.0.0.1");
    assert_string_equal(s.data_dir.c_str(), "/srv/a #b");
    assert_string_equal(s.tls_cert.c_str(), "/x#y");
    assert_string_equal(s.tls_key.c_str(), "/k");
    assert_string_equal(s.log_level.c_str(), "warn");
    assert_string_equal(s.fsync.c_str(), "always");
    // data_dir is another name for data, in the file and as a flag.
    Settings d;
    expect_action(conf("data_dir = /var/lib/roost\n", d), ArgsAction::run, "data_dir");
    assert_string_equal(d.data_dir.c_str(), "/var/lib/roost");
    expect_action(parse({"--data-dir", "/srv/r"}, d), ArgsAction::run, "--data-dir");
    assert_string_equal(d.data_dir.c_str(), "/srv/r");
    // The file name is the one given.
    expect_error(roost::parse_config("x", "/etc/roost/r.conf", s), "/etc/roost/r.conf:1: ", "file name");
}

void origins_list(void**) {
    Settings s;
    expect_action(conf("origins = https://a.example, http://pi.local:8080", s), ArgsAction::run, "two");
    assert_int_equal(s.origins.size(), 2);
    assert_string_equal(s.origins[1].c_str(), "http://pi.local:8080");
    expect_action(parse({"--origins", "*"}, s), ArgsAction::run, "any");
    assert_int_equal(s.origins.size(), 1);
    assert_string_equal(s.origins[0].c_str(), "*");
    expect_action(conf("origins =", s), ArgsAction::run, "empty clears");
    assert_true(s.origins.empty());
    for (const char* bad : {"origins = a.example", "origins = https://a.example/", "origins = https://",
                            "origins = https://a,,https://b", "origins = ftp://a"}) {
        expect_error(conf(bad, s), "roost.conf:1: origins: ", bad);
    }
}

constexpr const char* kSecret = "0123456789abcdef";

void tokens_parse(void**) {
    Settings s;
    expect_action(conf(std::string("token = sensor ") + kSecret + " rooms=Sensors,lab\n" +
                           "token = \"Display.1 " + kSecret + "X read=* write=alerts\"\n",
                       s),
                  ArgsAction::run, "two tokens");
    assert_int_equal(s.tokens.size(), 2);
    assert_string_equal(s.tokens[0].name.c_str(), "sensor");
    assert_string_equal(s.tokens[0].secret.c_str(), kSecret);
    assert_int_equal(s.tokens[0].read_rooms.size(), 2);
    assert_string_equal(s.tokens[0].read_rooms[0].c_str(), "sensors"); // folded
    assert_int_equal(s.tokens[0].write_rooms.size(), 2);
    assert_string_equal(s.tokens[1].read_rooms[0].c_str(), "*");
    assert_string_equal(s.tokens[1].write_rooms[0].c_str(), "alerts");
    // The command line appends.
    const std::string spec = std::string("cli ") + kSecret + "Y write=lab";
    expect_action(parse({"--token", spec.c_str()}, s), ArgsAction::run, "--token");
    assert_int_equal(s.tokens.size(), 3);
    assert_true(s.tokens[2].read_rooms.empty());

    const std::string k = kSecret;
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"token = sensor " + k, "is not NAME SECRET rooms="},
        {"token = bad/name " + k + " rooms=a", "name 'bad/name' is not 1 to 24"},
        {"token = n234567890123456789012345 " + k + " rooms=a", "is not 1 to 24"},
        {"token = s 0123456789abcde rooms=a", "the secret of s is not 16 to 128"},
        {"token = s " + std::string(129, 'a') + " rooms=a", "the secret of s is not 16 to 128"},
        {"token = s " + k + "\x7f rooms=a", "the secret of s is not"},
        {"token = s " + k + " rooms=Bad.Room", "'Bad.Room' is not a room name"},
        {"token = s " + k + " rooms=@a+b", "'@a+b' is not a room name"},
        {"token = s " + k + " rooms=", "empty room list"},
        {"token = s " + k + " rooms=a,,b", "empty room list"},
        {"token = s " + k + " rooms", "'rooms' is not rooms=ROOMS"},
        {"token = s " + k + " admin=a", "'admin=a' is not rooms=ROOMS"},
        {"token = a " + k + "1 rooms=a\ntoken = A " + k + "2 rooms=b",
         "roost.conf:2: token: a token named a is already"},
        {"token = a " + k + " rooms=a\ntoken = b " + k + " rooms=b",
         "roost.conf:2: token: the secret of b is already the secret of a"},
    };
    for (const auto& c : bad) {
        Settings t;
        expect_error(conf(c.first, t), c.second, c.first);
    }
    // Duplicates across the file and the flags are refused too.
    Settings t;
    expect_action(conf("token = a " + k + " rooms=a", t), ArgsAction::run, "file token");
    const std::string dup = "b " + k + " rooms=b";
    expect_error(parse({"--token", dup.c_str()}, t), "--token: the secret of b is already the secret of a", "dup");
}

void token_rooms_and_lookup(void**) {
    Settings s;
    const std::string k = kSecret;
    expect_action(conf("token = w " + k + "W rooms=a,b read=c\n" + "token = any " + k + "A rooms=*\n", s),
                  ArgsAction::run, "tokens");
    const roost::TokenSpec& w = s.tokens[0];
    assert_true(roost::token_allows(w, "c", false));
    assert_false(roost::token_allows(w, "a", false)); // read= replaced rooms='s read list
    assert_true(roost::token_allows(w, "a", true));
    assert_true(roost::token_allows(w, "b", true));
    assert_false(roost::token_allows(w, "c", true));
    const roost::TokenSpec& any = s.tokens[1];
    assert_true(roost::token_allows(any, "whatever", true));
    assert_false(roost::token_allows(any, "@ann+bob", false)); // never a DM room
    assert_false(roost::token_allows(any, "", false));

    assert_ptr_equal(roost::find_token(s, k + "W"), &s.tokens[0]);
    assert_ptr_equal(roost::find_token(s, k + "A"), &s.tokens[1]);
    assert_null(roost::find_token(s, k));
    assert_null(roost::find_token(s, k + "WX"));
    assert_null(roost::find_token(s, k + "w"));
    assert_null(roost::find_token(s, ""));
    Settings none;
    assert_null(roost::find_token(none, k));
}

void checks_across_settings(void**) {
    const std::vector<BadCase> cases = {
        {{"--tls-cert", "a.pem"}, "tls_cert and tls_key (--tls-cert, --tls-key) go together"},
        {{"--tls-key", "a.key"}, "go together"},
        {{"--http-port", "-1", "--https-port", "-1"}, "nothing to listen on"},
        {{"--max-text", "11000"}, "ring_bytes 65536 cannot hold one message of max_text 11000 bytes with "
                                  "max_data_keys 16 x max_data_string 64 and max_cid 64: it needs at least 76064"},
        // The documented minimum is refused with the defaults, and says why.
        {{"--ring-bytes", "4096"}, "it needs at least"},
        // The subscription table counts (it was left out once: bad_alloc).
        {{"--max-sessions", "65536", "--rooms-per-session", "256", "--control-bytes", "8192"},
         "most of it: max_sessions x rooms_per_session (subscriptions)"},
        {{"--max-text", "16000", "--ring-bytes", "200000"}, "max_frame 16384 cannot carry a say of max_text 16000"},
        {{"--device-ring-bytes", "4096"}, "device_ring_bytes 4096 cannot hold one reading"},
        {{"--max-text", "4096", "--max-body", "2048"}, "max_body 2048 is below max_text 4096"},
        {{"--max-rooms", "4096", "--ring-bytes", "1048576"}, "the settings would reserve 4"},
        {{"--max-key", "16", "--token", "t 0123456789abcdefg rooms=a"}, "token t: its secret is longer than max_key"},
    };
    for (const BadCase& c : cases) {
        Settings s;
        expect_error(parse(c.args, s), c.message_part, c.args[0] + std::string(" ") + c.args[1]);
    }
    Settings s;
    expect_action(
        parse({"--max-text", "11000", "--ring-bytes", "76064", "--max-frame", "11512", "--max-body", "11000"}, s),
        ArgsAction::run, "exactly enough");
    // The answer to one frame fits the smallest control buffer with the
    // longest cid the table allows, so reading a session can always resume.
    roost::CoreLimits widest;
    widest.max_cid = roost::kMaxCidBound;
    assert_true(roost::reply_reserve_bytes(widest) <= 1024);
    // Every documented bound is reachable: the smallest ring with the
    // smallest message, the smallest control buffer with short cids.
    Settings small;
    expect_action(parse({"--ring-bytes", "4096", "--max-text", "16", "--max-data-keys", "0", "--max-cid", "16",
                         "--control-bytes", "1024"},
                        small),
                  ArgsAction::run, "the minima");
    // The checks see the merged result: a file's tls_cert, a flag's tls_key.
    Settings merged;
    expect_action(conf("tls_cert = c.pem", merged), ArgsAction::run, "file");
    expect_action(parse({"--tls-key", "k.pem"}, merged), ArgsAction::run, "flags");
    expect_action(roost::check_settings(merged), ArgsAction::run, "check");
}

void flags_override_the_file(void**) {
    Settings s;
    expect_action(conf("http_port = 1000\nmax_rooms = 5\nbind = 10.0.0.1", s), ArgsAction::run, "file");
    expect_action(parse({"--http-port", "2000", "--config", "x.conf"}, s), ArgsAction::run, "flags");
    assert_int_equal(s.http_port, 2000);
    assert_int_equal(s.limits.max_rooms, 5);
    assert_string_equal(s.bind.c_str(), "10.0.0.1");
    assert_string_equal(s.config_file.c_str(), "x.conf");
}

struct PathCase {
    std::vector<const char*> args;
    const char* path;
};

void config_path_is_found_alone(void**) {
    const PathCase cases[] = {
        {{}, ""},
        {{"--config", "a.conf"}, "a.conf"},
        {{"--config=b.conf"}, "b.conf"},
        {{"--http-port", "1", "--config", "a.conf", "--config=c.conf"}, "c.conf"},
        {{"--bind", "--config"}, ""},          // the value of --bind
        {{"--data=x", "--config", "a"}, "a"},
        {{"--config"}, ""},                    // parse_args reports it
        {{"--help", "--config", "a"}, ""},     // help needs no file
        {{"--config", "a", "--version"}, ""},
        {{"--nope", "--config", "a"}, ""},     // parse_args stops first
        {{"stray", "--config", "a"}, ""},
    };
    for (const PathCase& c : cases) {
        std::vector<const char*> args = c.args;
        args.insert(args.begin(), "roost");
        const std::string_view p = roost::config_path_from_args(static_cast<int>(args.size()), args.data());
        if (p != c.path) fail_msg("got '%.*s', want '%s'", static_cast<int>(p.size()), p.data(), c.path);
    }
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_documented_values),
        cmocka_unit_test(both_flag_forms_set_values),
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(bad_flags_are_errors_naming_the_flag),
        cmocka_unit_test(later_flag_wins),
        cmocka_unit_test(every_numeric_key_checks_its_bounds),
        cmocka_unit_test(every_numeric_key_sets_its_field),
        cmocka_unit_test(config_syntax),
        cmocka_unit_test(origins_list),
        cmocka_unit_test(tokens_parse),
        cmocka_unit_test(token_rooms_and_lookup),
        cmocka_unit_test(checks_across_settings),
        cmocka_unit_test(flags_override_the_file),
        cmocka_unit_test(config_path_is_found_alone),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
