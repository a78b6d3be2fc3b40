// Tests for platform/config.cpp: reading the --config file (missing, a
// directory, too large, bad lines), its precedence under the flags, and the
// committed sample roost.conf, which must document every key of the table
// with its current default and bounds and parse with its examples enabled.
#include "platform/config.h"

#include <unistd.h>

#include "tests/support/unit.h"

#ifndef ROOST_SAMPLE_CONF
#error "ROOST_SAMPLE_CONF must name the repository's roost.conf"
#endif

namespace {

using roost::ArgsAction;
using roost::Settings;

struct Loaded {
    bool ok = false;
    ArgsAction action = ArgsAction::run;
    std::string message;
};

Loaded load(std::vector<const char*> args, Settings& s) {
    args.insert(args.begin(), "roost");
    Loaded l;
    l.ok = roost::load_settings(static_cast<int>(args.size()), args.data(), s, l.message, l.action);
    return l;
}

void expect_error(const Loaded& l, const std::string& part) {
    assert_false(l.ok);
    assert_int_equal(static_cast<int>(l.action), static_cast<int>(ArgsAction::error));
    if (l.message.find(part) == std::string::npos) {
        fail_msg("message '%s' lacks '%s'", l.message.c_str(), part.c_str());
    }
}

// A file in /tmp holding `text`, removed when the test ends.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& text) {
        char name[] = "/tmp/roost-test-config-XXXXXX";
        const int fd = mkstemp(name);
        assert_true(fd >= 0);
        close(fd);
        path = name;
        std::ofstream(path, std::ios::binary) << text;
    }
    ~TempFile() { unlink(path.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
};

std::string read_sample() {
    std::ifstream in(ROOST_SAMPLE_CONF, std::ios::binary);
    assert_true(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void no_config_reads_no_file(void**) {
    Settings s;
    const Loaded l = load({"--http-port", "0"}, s);
    assert_true(l.ok);
    assert_int_equal(static_cast<int>(l.action), static_cast<int>(ArgsAction::run));
    assert_int_equal(s.http_port, 0);
    assert_true(s.config_file.empty());
}

void unreadable_files_are_errors_naming_them(void**) {
    Settings s;
    expect_error(load({"--config", "/nonexistent/roost.conf"}, s),
                 "cannot open config file /nonexistent/roost.conf: No such file or directory");
    expect_error(load({"--config=/tmp"}, s), "cannot read config file /tmp: Is a directory");
    const TempFile big(std::string(1024 * 1024 + 1, '#'));
    expect_error(load({"--config", big.path.c_str()}, s), "config file " + big.path + " is larger than 1 MiB");
    expect_error(load({"--config"}, s), "--config: missing value FILE");
}

void bad_lines_name_file_line_and_key(void**) {
    const TempFile f("# ok\nhttp_port = 1000\nring_bytes = 99\n");
    Settings s;
    expect_error(load({"--config", f.path.c_str()}, s),
                 f.path + ":3: ring_bytes: 99 is out of range (4096 to 16777216)");
    const TempFile empty("");
    Settings t;
    assert_true(load({"--config", empty.path.c_str()}, t).ok);
}

void flags_win_over_the_file(void**) {
    const TempFile f("http_port = 1000\nmax_rooms = 5\ntls_cert = c.pem\n"
                     "token = a 0123456789abcdef rooms=x\n");
    Settings s;
    const Loaded l = load({"--http-port", "2000", "--config", f.path.c_str(), "--tls-key", "k.pem", "--token",
                           "b 0123456789abcdeX rooms=y"},
                          s);
    assert_true(l.ok);
    assert_int_equal(s.http_port, 2000);
    assert_int_equal(s.limits.max_rooms, 5);
    assert_string_equal(s.config_file.c_str(), f.path.c_str());
    assert_int_equal(s.tokens.size(), 2);
    // The checks across settings see the merged result.
    Settings t;
    expect_error(load({"--config", f.path.c_str()}, t), "go together");
}

void help_and_version_need_no_file(void**) {
    Settings s;
    Loaded l = load({"--config", "/nonexistent", "--help"}, s);
    assert_false(l.ok);
    assert_int_equal(static_cast<int>(l.action), static_cast<int>(ArgsAction::help));
    l = load({"-V", "--config", "/nonexistent"}, s);
    assert_int_equal(static_cast<int>(l.action), static_cast<int>(ArgsAction::version));
}

// Every key is documented: "# key: help", then its default and bounds as
// the table states them now, then (but for config) an example line.
void sample_documents_every_key(void**) {
    const std::string text = "\n" + read_sample();
    for (const roost::SettingDoc& d : roost::setting_docs()) {
        const std::string name(d.name);
        std::string summary = d.default_value.empty() ? "default: none" : "default " + d.default_value;
        if (!d.bounds.empty()) summary += "; " + d.bounds;
        const std::string block = "\n# " + name + ": " + std::string(d.help) + "\n#   " + summary + "\n";
        if (text.find(block) == std::string::npos) {
            fail_msg("roost.conf lacks (or has an old) entry for %s:%s", name.c_str(), block.c_str());
        }
        if (name != "config" && text.find("\n# " + name + " = ") == std::string::npos) {
            fail_msg("roost.conf has no example line for %s", name.c_str());
        }
    }
}

void sample_parses_as_is_and_enabled(void**) {
    Settings s;
    const Loaded l = load({"--config", ROOST_SAMPLE_CONF}, s);
    if (!l.ok) fail_msg("roost.conf: %s", l.message.c_str());
    // Uncomment every example line: each must be a valid value, together.
    std::istringstream in(read_sample());
    std::string line, enabled;
    int examples = 0;
    while (std::getline(in, line)) {
        const std::size_t eq = line.find(" = ");
        if (line.rfind("# ", 0) == 0 && eq != std::string::npos && line.find(' ', 2) == eq) {
            enabled += line.substr(2) + "\n";
            ++examples;
        }
    }
    assert_int_equal(examples, static_cast<int>(roost::setting_docs().size()) - 1); // all but config
    Settings e;
    roost::ArgsResult r = roost::parse_config(enabled, "roost.conf (enabled)", e);
    if (r.action != ArgsAction::run) fail_msg("%s", r.message.c_str());
    r = roost::check_settings(e);
    if (r.action != ArgsAction::run) fail_msg("%s", r.message.c_str());
    assert_int_equal(e.tokens.size(), 1);
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_config_reads_no_file),
        cmocka_unit_test(unreadable_files_are_errors_naming_them),
        cmocka_unit_test(bad_lines_name_file_line_and_key),
        cmocka_unit_test(flags_win_over_the_file),
        cmocka_unit_test(help_and_version_need_no_file),
        cmocka_unit_test(sample_documents_every_key),
        cmocka_unit_test(sample_parses_as_is_and_enabled),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
