// Tests for platform/certs.cpp: the local CA and the server certificate are
// real X.509 that mbedTLS verifies; the data directory keeps and reissues them.
#include "platform/certs.h"

#include "platform/settings.h"

#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/unit.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Crt {
    mbedtls_x509_crt c;
    Crt() { mbedtls_x509_crt_init(&c); }
    ~Crt() { mbedtls_x509_crt_free(&c); }
    Crt(const Crt&) = delete;
    Crt& operator=(const Crt&) = delete;
    int parse(const std::string& pem) {
        return mbedtls_x509_crt_parse(&c, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1);
    }
};

// Verifies `cert_pem` against `ca_pem` for `name` (a DNS name or an IP
// literal); returns mbedTLS's verify flags (0 = trusted).
uint32_t verify(const std::string& ca_pem, const std::string& cert_pem, const char* name) {
    Crt ca, crt;
    assert_int_equal(ca.parse(ca_pem), 0);
    assert_int_equal(crt.parse(cert_pem), 0);
    uint32_t flags = 0;
    const int rc = mbedtls_x509_crt_verify(&crt.c, &ca.c, nullptr, name, &flags, nullptr, nullptr);
    return rc == 0 ? 0u : (flags == 0 ? 0xffffffffu : flags);
}

// A certificate time as seconds since the epoch (UTC).
std::time_t as_time(const mbedtls_x509_time& t) {
    std::tm tm{};
    tm.tm_year = t.year - 1900;
    tm.tm_mon = t.mon - 1;
    tm.tm_mday = t.day;
    tm.tm_hour = t.hour;
    tm.tm_min = t.min;
    tm.tm_sec = t.sec;
    return timegm(&tm);
}

long validity_seconds(const mbedtls_x509_crt& c) {
    return static_cast<long>(as_time(c.valid_to) - as_time(c.valid_from));
}

std::string make_temp_dir() {
    char tmpl[] = "/tmp/roost-test-certs-XXXXXX";
    const char* d = mkdtemp(tmpl);
    assert_non_null(d);
    return d;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void remove_tree(const std::string& dir) {
    for (const char* f : {"ca.key", "ca.crt", "server.key", "server.crt", "server.names"}) {
        std::remove((dir + "/" + f).c_str());
    }
    rmdir(dir.c_str());
}

void ca_signs_a_server_certificate_that_verifies(void**) {
    std::string ca_key, ca_pem, key, cert, err;
    assert_true(roost::make_local_ca("pi", ca_key, ca_pem, err));
    const std::vector<std::string> names = {"DNS:pi", "DNS:pi.local", "DNS:localhost", "IP:127.0.0.1", "IP:::1",
                                            "IP:192.0.2.7"};
    assert_true(roost::issue_server_certificate(ca_key, ca_pem, names, key, cert, err));
    assert_int_equal(verify(ca_pem, cert, "localhost"), 0);
    assert_int_equal(verify(ca_pem, cert, "pi.local"), 0);
    assert_int_equal(verify(ca_pem, cert, "pi"), 0);
    assert_int_equal(verify(ca_pem, cert, "192.0.2.7"), 0);
    assert_int_equal(verify(ca_pem, cert, "127.0.0.1"), 0);
    // A name it was not issued for, and another CA, must fail.
    assert_true((verify(ca_pem, cert, "example.org") & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0);
    std::string other_key, other_ca;
    assert_true(roost::make_local_ca("pi", other_key, other_ca, err));
    assert_true((verify(other_ca, cert, "localhost") & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0);
}

void certificate_extensions_fit_phones(void**) {
    std::string ca_key, ca_pem, key, cert, err;
    assert_true(roost::make_local_ca("pi", ca_key, ca_pem, err));
    assert_true(roost::issue_server_certificate(ca_key, ca_pem, {"DNS:localhost"}, key, cert, err));
    Crt ca, crt;
    assert_int_equal(ca.parse(ca_pem), 0);
    assert_int_equal(crt.parse(cert), 0);
    char info[2048];
    assert_true(mbedtls_x509_crt_info(info, sizeof info, "", &ca.c) > 0);
    assert_non_null(std::strstr(info, "CA=true"));
    assert_true(mbedtls_x509_crt_info(info, sizeof info, "", &crt.c) > 0);
    assert_non_null(std::strstr(info, "CA=false"));
    assert_non_null(std::strstr(info, "localhost"));
    assert_int_equal(mbedtls_x509_crt_check_key_usage(&ca.c, MBEDTLS_X509_KU_KEY_CERT_SIGN), 0);
    assert_int_equal(mbedtls_x509_crt_check_key_usage(&crt.c, MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
    assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(&crt.c, MBEDTLS_OID_SERVER_AUTH,
                                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
                     0);
    // iOS refuses server certificates valid for more than 825 days, counted
    // from notBefore to notAfter; the CA is good for 10 years (3,650 days).
    assert_int_equal(validity_seconds(crt.c), 825L * 86400);
    assert_int_equal(validity_seconds(ca.c), 3650L * 86400);
    assert_int_equal(roost::kServerCertificateDays, 825);
    const std::time_t now = std::time(nullptr);
    assert_in_range(static_cast<unsigned long>(now - as_time(crt.c.valid_from)), 86400 - 60, 86400 + 60);
    assert_int_equal(mbedtls_pk_get_type(&crt.c.pk), MBEDTLS_PK_ECKEY);
}

void kept_certificate_is_current_until_its_last_30_days(void**) {
    std::string ca_key, ca_pem, key, cert, err;
    assert_true(roost::make_local_ca("pi", ca_key, ca_pem, err));
    assert_true(roost::issue_server_certificate(ca_key, ca_pem, {"DNS:localhost"}, key, cert, err));
    Crt crt;
    assert_int_equal(crt.parse(cert), 0);
    const long long end = as_time(crt.c.valid_to);
    const long long margin = roost::kServerCertificateRenewDays * 86400LL;
    assert_true(roost::server_certificate_current(cert, std::time(nullptr)));
    assert_true(roost::server_certificate_current(cert, end - margin - 1));
    assert_false(roost::server_certificate_current(cert, end - margin));
    assert_false(roost::server_certificate_current(cert, end + 1));
    // One day longer than iOS accepts (what Roost made before): replaced.
    std::string long_key, long_cert;
    assert_true(roost::issue_server_certificate(ca_key, ca_pem, {"DNS:localhost"}, long_key, long_cert, err,
                                                roost::kServerCertificateDays + 1));
    assert_false(roost::server_certificate_current(long_cert, std::time(nullptr)));
    assert_false(roost::server_certificate_current("", std::time(nullptr)));
    assert_false(roost::server_certificate_current("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                                   std::time(nullptr)));
}

void certificate_names_cover_the_contract(void**) {
    const std::vector<std::string> names = roost::certificate_names();
    bool localhost = false, loop4 = false, loop6 = false;
    for (const std::string& n : names) {
        localhost |= n == "DNS:localhost";
        loop4 |= n == "IP:127.0.0.1";
        loop6 |= n == "IP:::1";
    }
    assert_true(localhost && loop4 && loop6);
    assert_true(names.front().rfind("DNS:", 0) == 0); // the hostname comes first
}

void data_dir_keeps_and_reissues(void**) {
    const std::string dir = make_temp_dir() + "/data"; // created by prepare_tls
    roost::Settings s;
    s.data_dir = dir;
    roost::TlsMaterial first, second, third;
    std::string err;
    assert_true(roost::prepare_tls(s, first, err));
    assert_true(first.issued);
    struct stat st {};
    assert_int_equal(stat((dir + "/ca.key").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat((dir + "/server.key").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_string_equal(slurp(dir + "/ca.crt").c_str(), first.ca_pem.c_str());

    assert_true(roost::prepare_tls(s, second, err));
    assert_false(second.issued);
    assert_string_equal(second.cert_pem.c_str(), first.cert_pem.c_str());

    // The address list changed since: a new certificate from the same CA.
    std::ofstream(dir + "/server.names") << "DNS:elsewhere\n";
    assert_true(roost::prepare_tls(s, third, err));
    assert_true(third.issued);
    assert_string_equal(third.ca_pem.c_str(), first.ca_pem.c_str());
    assert_string_not_equal(third.cert_pem.c_str(), first.cert_pem.c_str());
    assert_int_equal(verify(third.ca_pem, third.cert_pem, "localhost"), 0);

    // The kept certificate has 20 days left: reissued at this start.
    std::string ca_key = slurp(dir + "/ca.key"), short_key, short_cert;
    assert_true(roost::issue_server_certificate(ca_key, third.ca_pem, roost::certificate_names(), short_key,
                                                short_cert, err, 20));
    std::ofstream(dir + "/server.crt") << short_cert;
    std::ofstream(dir + "/server.key") << short_key;
    roost::TlsMaterial fourth;
    assert_true(roost::prepare_tls(s, fourth, err));
    assert_true(fourth.issued);
    assert_true(roost::server_certificate_current(fourth.cert_pem, std::time(nullptr)));
    assert_string_equal(slurp(dir + "/server.crt").c_str(), fourth.cert_pem.c_str());
    remove_tree(dir);
    rmdir(dir.substr(0, dir.size() - 5).c_str());
}

void memory_only_and_configured_files(void**) {
    roost::Settings s;
    roost::TlsMaterial t;
    std::string err;
    assert_true(roost::prepare_tls(s, t, err));
    assert_true(t.issued);
    assert_int_equal(verify(t.ca_pem, t.cert_pem, "localhost"), 0);

    const std::string dir = make_temp_dir();
    std::ofstream(dir + "/c.pem") << t.cert_pem;
    std::ofstream(dir + "/k.pem") << t.key_pem;
    roost::Settings c;
    c.tls_cert = dir + "/c.pem";
    c.tls_key = dir + "/k.pem";
    roost::TlsMaterial given;
    assert_true(roost::prepare_tls(c, given, err));
    assert_string_equal(given.cert_pem.c_str(), t.cert_pem.c_str());
    assert_true(given.ca_pem.empty());
    assert_false(given.issued);

    c.tls_key = dir + "/missing.pem";
    assert_false(roost::prepare_tls(c, given, err));
    assert_non_null(std::strstr(err.c_str(), "missing.pem"));
    std::remove((dir + "/c.pem").c_str());
    std::remove((dir + "/k.pem").c_str());
    rmdir(dir.c_str());
}

void unusable_data_dir_is_an_error(void**) {
    roost::Settings s;
    s.data_dir = "/proc/roost-cannot-exist/data";
    roost::TlsMaterial t;
    std::string err;
    assert_false(roost::prepare_tls(s, t, err));
    assert_non_null(std::strstr(err.c_str(), "/proc/roost-cannot-exist/data"));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ca_signs_a_server_certificate_that_verifies),
        cmocka_unit_test(certificate_extensions_fit_phones),
        cmocka_unit_test(kept_certificate_is_current_until_its_last_30_days),
        cmocka_unit_test(certificate_names_cover_the_contract),
        cmocka_unit_test(data_dir_keeps_and_reissues),
        cmocka_unit_test(memory_only_and_configured_files),
        cmocka_unit_test(unusable_data_dir_is_an_error),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
