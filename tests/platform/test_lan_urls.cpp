// Tests for platform/lan_urls.cpp: the URLs of the banner and `roost qr`
// (a bound address, ports off, brackets for IPv6), and which one a phone's
// camera gets (reachable, http, IPv4 preferred).
#include "platform/lan_urls.h"

#include "tests/support/unit.h"

namespace {

using roost::LanUrl;

LanUrl url(const std::string& host, bool loopback, const std::string& http, const std::string& https = "") {
    LanUrl u;
    u.host = host;
    u.loopback = loopback;
    u.http = http;
    u.https = https;
    return u;
}

void a_bound_address_is_the_only_url(void** /*state*/) {
    const auto v4 = roost::lan_urls("192.168.1.23", 8080, 8443);
    assert_int_equal(v4.size(), 1);
    assert_string_equal(v4[0].http.c_str(), "http://192.168.1.23:8080/");
    assert_string_equal(v4[0].https.c_str(), "https://192.168.1.23:8443/");
    assert_false(v4[0].loopback);

    const auto v6 = roost::lan_urls("fd00::5", 80, 65535);
    assert_int_equal(v6.size(), 1);
    assert_string_equal(v6[0].host.c_str(), "[fd00::5]");
    assert_string_equal(v6[0].http.c_str(), "http://[fd00::5]:80/");
    assert_string_equal(v6[0].https.c_str(), "https://[fd00::5]:65535/");

    for (const char* lo : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
        assert_true(roost::lan_urls(lo, 8080, 8443)[0].loopback);
    }
}

void a_port_that_is_off_has_no_url(void** /*state*/) {
    const auto http_only = roost::lan_urls("10.0.0.7", 8080, -1);
    assert_string_equal(http_only[0].http.c_str(), "http://10.0.0.7:8080/");
    assert_true(http_only[0].https.empty());
    const auto https_only = roost::lan_urls("10.0.0.7", -1, 8443);
    assert_true(https_only[0].http.empty());
    assert_string_equal(https_only[0].https.c_str(), "https://10.0.0.7:8443/");
}

void a_wildcard_bind_lists_the_machines_addresses(void** /*state*/) {
    for (const char* any : {"", "0.0.0.0", "::"}) {
        const auto urls = roost::lan_urls(any, 8080, 8443);
        assert_true(!urls.empty());
        for (const LanUrl& u : urls) {
            // Never the wildcard itself, never the loopback addresses (only
            // "localhost" when the machine has nothing else).
            assert_true(u.host != "0.0.0.0" && u.host != "[::]" && u.host != "127.0.0.1" && u.host != "[::1]");
            assert_true(u.loopback == (u.host == "localhost"));
            assert_true(u.http == "http://" + u.host + ":8080/");
        }
    }
}

void the_qr_url_is_reachable_http_ipv4_first(void** /*state*/) {
    assert_string_equal(roost::qr_url({url("[fd00::2]", false, "http://[fd00::2]:8080/"),
                                       url("192.0.2.2", false, "http://192.0.2.2:8080/")})
                            .c_str(),
                        "http://192.0.2.2:8080/");
    // The first of several IPv4 addresses.
    assert_string_equal(roost::qr_url({url("10.0.0.1", false, "http://10.0.0.1:8080/"),
                                       url("10.0.0.2", false, "http://10.0.0.2:8080/")})
                            .c_str(),
                        "http://10.0.0.1:8080/");
    // IPv6 when there is nothing else.
    assert_string_equal(roost::qr_url({url("[fd00::2]", false, "http://[fd00::2]:8080/")}).c_str(),
                        "http://[fd00::2]:8080/");
    // Nothing a phone can reach: no URL.
    assert_true(roost::qr_url({url("localhost", true, "http://localhost:8080/")}).empty());
    assert_true(roost::qr_url({}).empty());
    // http off: no URL (HTTPS needs the CA trusted first; `roost qr` decides).
    assert_true(roost::qr_url({url("10.0.0.1", false, "", "https://10.0.0.1:8443/")}).empty());
}

void the_local_name_url_follows_http(void** /*state*/) {
    assert_true(roost::local_name_url(-1).empty());
    const std::string u = roost::local_name_url(8080);
    // Empty only when the host name has a dot (no NAME.local then).
    if (!u.empty()) {
        assert_true(u.rfind("http://", 0) == 0);
        assert_true(u.size() > 18 && u.compare(u.size() - 12, 12, ".local:8080/") == 0);
    }
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_bound_address_is_the_only_url),
        cmocka_unit_test(a_port_that_is_off_has_no_url),
        cmocka_unit_test(a_wildcard_bind_lists_the_machines_addresses),
        cmocka_unit_test(the_qr_url_is_reachable_http_ipv4_first),
        cmocka_unit_test(the_local_name_url_follows_http),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
