// Tests for broker/settings.cpp: every flag form, every bad input, table-driven.
#include "broker/settings.h"

#include "tests/support/unit.h"

#include <cstring>
#include <string>
#include <vector>

namespace {

roost::ArgsResult parse(std::vector<const char*> args, roost::Settings& s) {
    args.insert(args.begin(), "roost");
    return roost::parse_args(static_cast<int>(args.size()), args.data(), s);
}

void defaults_are_documented_values(void**) {
    roost::Settings s;
    const roost::ArgsResult r = parse({}, s);
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(roost::ArgsAction::run));
    assert_int_equal(s.http_port, 8080);
    assert_int_equal(s.https_port, 8443);
    assert_true(s.bind.empty());
    assert_true(s.data_dir.empty());
    assert_string_equal(s.log_level.c_str(), "info");
}

void both_flag_forms_set_values(void**) {
    roost::Settings s;
    const roost::ArgsResult r = parse({"--http-port", "0", "--https-port=9443", "--bind", "127.0.0.1", "--data=/tmp/x",
                                       "--log-level", "debug"},
                                      s);
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(roost::ArgsAction::run));
    assert_int_equal(s.http_port, 0);
    assert_int_equal(s.https_port, 9443);
    assert_string_equal(s.bind.c_str(), "127.0.0.1");
    assert_string_equal(s.data_dir.c_str(), "/tmp/x");
    assert_string_equal(s.log_level.c_str(), "debug");
}

void help_and_version(void**) {
    roost::Settings s;
    assert_int_equal(static_cast<int>(parse({"--help"}, s).action), static_cast<int>(roost::ArgsAction::help));
    assert_int_equal(static_cast<int>(parse({"-h"}, s).action), static_cast<int>(roost::ArgsAction::help));
    assert_int_equal(static_cast<int>(parse({"--version"}, s).action), static_cast<int>(roost::ArgsAction::version));
    const std::string help = roost::help_text("roost");
    for (const char* flag : {"--bind", "--http-port", "--https-port", "--data", "--tls-cert", "--tls-key", "--log-level",
                             "--version", "--help"}) {
        assert_non_null(std::strstr(help.c_str(), flag));
    }
}

struct BadCase {
    std::vector<const char*> args;
    const char* message_part; // the message must name the problem
};

void bad_inputs_are_errors_naming_the_flag(void**) {
    const std::vector<BadCase> cases = {
        {{"--nope"}, "unknown flag '--nope'"},
        {{"--nope=3"}, "unknown flag '--nope'"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"--http-port"}, "--http-port: missing value"},
        {{"--http-port", "abc"}, "--http-port: 'abc' is not a whole number"},
        {{"--http-port", "80x"}, "is not a whole number"},
        {{"--http-port="}, "is not a whole number"},
        {{"--http-port", "65536"}, "--http-port: 65536 is out of range (-1 to 65535)"},
        {{"--https-port", "-2"}, "--https-port: -2 is out of range"},
        {{"--http-port", "99999999999999999999"}, "is not a whole number"},
        {{"--log-level", "loud"}, "--log-level: 'loud' is not one of"},
        {{"--data", ""}, "--data: needs a non-empty value"},
        {{"--tls-cert", "a.pem"}, "--tls-cert and --tls-key go together"},
        {{"--http-port", "-1", "--https-port", "-1"}, "nothing to listen on"},
    };
    for (const BadCase& c : cases) {
        roost::Settings s;
        const roost::ArgsResult r = parse(c.args, s);
        assert_int_equal(static_cast<int>(r.action), static_cast<int>(roost::ArgsAction::error));
        if (r.message.find(c.message_part) == std::string::npos) {
            fail_msg("message '%s' lacks '%s'", r.message.c_str(), c.message_part);
        }
    }
}

void later_flag_wins(void**) {
    roost::Settings s;
    assert_int_equal(static_cast<int>(parse({"--http-port", "1", "--http-port", "2"}, s).action),
                     static_cast<int>(roost::ArgsAction::run));
    assert_int_equal(s.http_port, 2);
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_documented_values),
        cmocka_unit_test(both_flag_forms_set_values),
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(bad_inputs_are_errors_naming_the_flag),
        cmocka_unit_test(later_flag_wins),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
