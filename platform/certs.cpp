#include "platform/certs.h"

#include "platform/settings.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#if !defined(ROOST_MBEDTLS_CONFIG)
#error "Roost must be compiled with its own MBEDTLS_CONFIG_FILE (cmake/mbedtls_config.h)"
#endif

namespace roost {
namespace {

std::string mbed_error(const char* what, int rc) {
    char buf[160];
    mbedtls_strerror(rc, buf, sizeof buf);
    return std::string(what) + ": " + buf;
}

// A seeded CTR-DRBG, freed on scope exit.
struct Random {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    int rc;
    Random() {
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        static const unsigned char pers[] = "roost-certs";
        rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, pers, sizeof pers - 1);
    }
    ~Random() {
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
    }
    Random(const Random&) = delete;
    Random& operator=(const Random&) = delete;
};

struct Key {
    mbedtls_pk_context pk;
    Key() { mbedtls_pk_init(&pk); }
    ~Key() { mbedtls_pk_free(&pk); }
    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;
};

struct Writer {
    mbedtls_x509write_cert crt;
    Writer() { mbedtls_x509write_crt_init(&crt); }
    ~Writer() { mbedtls_x509write_crt_free(&crt); }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
};

struct Cert {
    mbedtls_x509_crt crt;
    Cert() { mbedtls_x509_crt_init(&crt); }
    ~Cert() { mbedtls_x509_crt_free(&crt); }
    Cert(const Cert&) = delete;
    Cert& operator=(const Cert&) = delete;
};

bool generate_key(Random& rnd, Key& key, std::string& err) {
    int rc = mbedtls_pk_setup(&key.pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0) {
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.pk), mbedtls_ctr_drbg_random,
                                 &rnd.drbg);
    }
    if (rc != 0) {
        err = mbed_error("generating an EC key", rc);
        return false;
    }
    return true;
}

bool parse_key(Random& rnd, const std::string& pem, Key& key, std::string& err) {
    const int rc = mbedtls_pk_parse_key(&key.pk, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                        pem.size() + 1, nullptr, 0, mbedtls_ctr_drbg_random, &rnd.drbg);
    if (rc != 0) {
        err = mbed_error("reading a private key", rc);
        return false;
    }
    return true;
}

bool key_pem(Key& key, std::string& out, std::string& err) {
    unsigned char buf[4096];
    const int rc = mbedtls_pk_write_key_pem(&key.pk, buf, sizeof buf);
    if (rc != 0) {
        err = mbed_error("writing a private key", rc);
        return false;
    }
    out.assign(reinterpret_cast<const char*>(buf));
    return true;
}

// "YYYYMMDDhhmmss" (UTC).
std::string x509_time(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    return buf;
}

// A certificate time (UTC) as seconds since the epoch.
long long seconds_since_epoch(const mbedtls_x509_time& t) {
    std::tm tm{};
    tm.tm_year = t.year - 1900;
    tm.tm_mon = t.mon - 1;
    tm.tm_mday = t.day;
    tm.tm_hour = t.hour;
    tm.tm_min = t.min;
    tm.tm_sec = t.sec;
    return static_cast<long long>(timegm(&tm));
}

// Common fields of both certificates; signs and writes PEM. Valid for
// `days` in all, from a day ago (a phone whose clock is behind still
// accepts it): iOS counts notBefore to notAfter against its 825 days.
bool sign(Random& rnd, Writer& w, Key& subject, Key& issuer, const std::string& subject_name,
          const std::string& issuer_name, long days, std::string& out, std::string& err) {
    unsigned char serial[16];
    int rc = mbedtls_ctr_drbg_random(&rnd.drbg, serial, sizeof serial);
    serial[0] &= 0x7f; // positive
    serial[0] |= 0x01; // no leading zero byte
    mbedtls_x509write_crt_set_version(&w.crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w.crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w.crt, &subject.pk);
    mbedtls_x509write_crt_set_issuer_key(&w.crt, &issuer.pk);
    if (rc == 0) rc = mbedtls_x509write_crt_set_serial_raw(&w.crt, serial, sizeof serial);
    if (rc == 0) rc = mbedtls_x509write_crt_set_subject_name(&w.crt, subject_name.c_str());
    if (rc == 0) rc = mbedtls_x509write_crt_set_issuer_name(&w.crt, issuer_name.c_str());
    const std::time_t from = std::time(nullptr) - 86400L;
    if (rc == 0) {
        rc = mbedtls_x509write_crt_set_validity(&w.crt, x509_time(from).c_str(), x509_time(from + days * 86400L).c_str());
    }
    if (rc == 0) rc = mbedtls_x509write_crt_set_subject_key_identifier(&w.crt);
    if (rc == 0) rc = mbedtls_x509write_crt_set_authority_key_identifier(&w.crt);
    unsigned char buf[4096];
    if (rc == 0) rc = mbedtls_x509write_crt_pem(&w.crt, buf, sizeof buf, mbedtls_ctr_drbg_random, &rnd.drbg);
    if (rc != 0) {
        err = mbed_error("writing a certificate", rc);
        return false;
    }
    out.assign(reinterpret_cast<const char*>(buf));
    return true;
}

// Escapes a value for an X.509 distinguished-name string.
std::string dn_value(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == ',' || c == '=' || c == '+' || c == '\\' || c == '"' || c == '<' || c == '>' || c == ';') {
            out += '\\';
        }
        out += c;
    }
    return out.substr(0, 60);
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
        return "roost";
    }
    return buf;
}

// stdio, not <fstream>: iostreams would link libstdc++'s locale machinery
// (about 350 KB) into the release binaries, which carry libstdc++ statically.
bool read_file(const std::string& path, std::string& out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        return false;
    }
    out.clear();
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        out.append(buf, n);
    }
    const bool ok = std::ferror(f) == 0;
    std::fclose(f);
    return ok;
}

// Writes atomically (temp file + rename) with the given mode.
bool write_file(const std::string& path, const std::string& data, mode_t mode, std::string& err) {
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) {
        err = "cannot write " + tmp + ": " + std::strerror(errno);
        return false;
    }
    const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size() && std::fflush(f) == 0 &&
                    fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!ok || chmod(tmp.c_str(), mode) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
        err = "cannot write " + path + ": " + std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

std::string join_lines(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) {
        s += x;
        s += '\n';
    }
    return s;
}

} // namespace

std::vector<std::string> certificate_names() {
    const std::string host = host_name();
    std::vector<std::string> names = {"DNS:" + host};
    if (host.find('.') == std::string::npos) {
        names.push_back("DNS:" + host + ".local");
    }
    names.push_back("DNS:localhost");
    std::vector<std::string> ips = {"IP:127.0.0.1", "IP:::1"};
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) == 0) {
        for (ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
            if (ifa->ifa_addr == nullptr || (ifa->ifa_flags & IFF_LOOPBACK) != 0) {
                continue;
            }
            char buf[INET6_ADDRSTRLEN] = {};
            if (ifa->ifa_addr->sa_family == AF_INET) {
                inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ifa->ifa_addr)->sin_addr, buf, sizeof buf);
            } else if (ifa->ifa_addr->sa_family == AF_INET6) {
                const in6_addr& a = reinterpret_cast<sockaddr_in6*>(ifa->ifa_addr)->sin6_addr;
                if (IN6_IS_ADDR_LINKLOCAL(&a)) {
                    continue; // needs a zone id: unusable in a URL from a phone
                }
                inet_ntop(AF_INET6, &a, buf, sizeof buf);
            } else {
                continue;
            }
            ips.push_back(std::string("IP:") + buf);
        }
        freeifaddrs(list);
    }
    std::sort(ips.begin() + 2, ips.end());
    ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
    names.insert(names.end(), ips.begin(), ips.end());
    return names;
}

bool make_local_ca(const std::string& hostname, std::string& ca_key_pem, std::string& ca_cert_pem,
                   std::string& err) {
    Random rnd;
    if (rnd.rc != 0) {
        err = mbed_error("seeding the random generator", rnd.rc);
        return false;
    }
    Key key;
    Writer w;
    if (!generate_key(rnd, key, err)) {
        return false;
    }
    const std::string name = "CN=Roost local CA (" + dn_value(hostname) + "),O=Roost";
    int rc = mbedtls_x509write_crt_set_basic_constraints(&w.crt, 1, 0);
    if (rc == 0) {
        rc = mbedtls_x509write_crt_set_key_usage(&w.crt, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN);
    }
    if (rc != 0) {
        err = mbed_error("setting CA extensions", rc);
        return false;
    }
    return sign(rnd, w, key, key, name, name, kLocalCaDays, ca_cert_pem, err) && key_pem(key, ca_key_pem, err);
}

bool issue_server_certificate(const std::string& ca_key_pem, const std::string& ca_cert_pem,
                              const std::vector<std::string>& names, std::string& out_key_pem,
                              std::string& cert_pem, std::string& err, long days) {
    Random rnd;
    if (rnd.rc != 0) {
        err = mbed_error("seeding the random generator", rnd.rc);
        return false;
    }
    Key ca_key;
    Cert ca;
    if (!parse_key(rnd, ca_key_pem, ca_key, err)) {
        return false;
    }
    int rc = mbedtls_x509_crt_parse(&ca.crt, reinterpret_cast<const unsigned char*>(ca_cert_pem.c_str()),
                                    ca_cert_pem.size() + 1);
    if (rc != 0) {
        err = mbed_error("reading the CA certificate", rc);
        return false;
    }
    char issuer[512];
    rc = mbedtls_x509_dn_gets(issuer, sizeof issuer, &ca.crt.subject);
    if (rc < 0) {
        err = mbed_error("reading the CA name", rc);
        return false;
    }

    // Subject alternative names: a linked list over storage that outlives
    // the writer call (raw IP bytes for IP entries, as X.509 wants).
    std::vector<mbedtls_x509_san_list> sans(names.size());
    std::vector<std::string> values(names.size());
    std::string cn;
    std::size_t n = 0;
    for (const std::string& name : names) {
        mbedtls_x509_san_list& e = sans[n];
        std::memset(&e, 0, sizeof e);
        if (name.rfind("DNS:", 0) == 0) {
            values[n] = name.substr(4);
            e.node.type = MBEDTLS_X509_SAN_DNS_NAME;
            if (cn.empty()) {
                cn = values[n];
            }
        } else if (name.rfind("IP:", 0) == 0) {
            unsigned char raw[16];
            const std::string ip = name.substr(3);
            if (inet_pton(AF_INET, ip.c_str(), raw) == 1) {
                values[n].assign(reinterpret_cast<char*>(raw), 4);
            } else if (inet_pton(AF_INET6, ip.c_str(), raw) == 1) {
                values[n].assign(reinterpret_cast<char*>(raw), 16);
            } else {
                continue;
            }
            e.node.type = MBEDTLS_X509_SAN_IP_ADDRESS;
        } else {
            continue;
        }
        e.node.san.unstructured_name.p = reinterpret_cast<unsigned char*>(values[n].data());
        e.node.san.unstructured_name.len = values[n].size();
        if (n > 0) {
            sans[n - 1].next = &e;
        }
        ++n;
    }
    if (n == 0) {
        err = "no names for the server certificate";
        return false;
    }

    Key key;
    Writer w;
    if (!generate_key(rnd, key, err)) {
        return false;
    }
    static const char kServerAuth[] = MBEDTLS_OID_SERVER_AUTH;
    mbedtls_asn1_sequence eku{};
    eku.buf.tag = MBEDTLS_ASN1_OID;
    eku.buf.p = reinterpret_cast<unsigned char*>(const_cast<char*>(kServerAuth));
    eku.buf.len = sizeof kServerAuth - 1;
    rc = mbedtls_x509write_crt_set_basic_constraints(&w.crt, 0, -1);
    if (rc == 0) rc = mbedtls_x509write_crt_set_key_usage(&w.crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (rc == 0) rc = mbedtls_x509write_crt_set_ext_key_usage(&w.crt, &eku);
    if (rc == 0) rc = mbedtls_x509write_crt_set_subject_alternative_name(&w.crt, sans.data());
    if (rc != 0) {
        err = mbed_error("setting server certificate extensions", rc);
        return false;
    }
    return sign(rnd, w, key, ca_key, "CN=" + dn_value(cn) + ",O=Roost", issuer, days, cert_pem, err) &&
           key_pem(key, out_key_pem, err);
}

bool server_certificate_current(const std::string& cert_pem, long long now) {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    const bool parsed = mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(cert_pem.c_str()),
                                               cert_pem.size() + 1) == 0;
    const long long from = parsed ? seconds_since_epoch(crt.valid_from) : 0;
    const long long to = parsed ? seconds_since_epoch(crt.valid_to) : 0;
    mbedtls_x509_crt_free(&crt);
    return parsed && to - from <= kServerCertificateDays * 86400LL &&
           to - now > kServerCertificateRenewDays * 86400LL;
}

bool prepare_tls(const Settings& settings, TlsMaterial& out, std::string& err) {
    out = TlsMaterial{};
    if (!settings.tls_cert.empty()) {
        if (!read_file(settings.tls_cert, out.cert_pem)) {
            err = "cannot read --tls-cert " + settings.tls_cert + ": " + std::strerror(errno);
            return false;
        }
        if (!read_file(settings.tls_key, out.key_pem)) {
            err = "cannot read --tls-key " + settings.tls_key + ": " + std::strerror(errno);
            return false;
        }
        return true;
    }

    const std::vector<std::string> names = certificate_names();
    const std::string hostname = host_name();
    std::string ca_key;
    if (settings.data_dir.empty()) {
        out.issued = true;
        return make_local_ca(hostname, ca_key, out.ca_pem, err) &&
               issue_server_certificate(ca_key, out.ca_pem, names, out.key_pem, out.cert_pem, err);
    }

    const std::string dir = settings.data_dir;
    const std::string ca_key_path = dir + "/ca.key", ca_crt_path = dir + "/ca.crt";
    const std::string key_path = dir + "/server.key", crt_path = dir + "/server.crt";
    const std::string names_path = dir + "/server.names";
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        err = "cannot create data directory " + dir + ": " + std::strerror(errno);
        return false;
    }
    if (!read_file(ca_key_path, ca_key) || !read_file(ca_crt_path, out.ca_pem)) {
        if (!make_local_ca(hostname, ca_key, out.ca_pem, err) ||
            !write_file(ca_key_path, ca_key, 0600, err) || !write_file(ca_crt_path, out.ca_pem, 0644, err)) {
            return false;
        }
    }
    std::string old_names;
    const bool have = read_file(key_path, out.key_pem) && read_file(crt_path, out.cert_pem) &&
                      read_file(names_path, old_names);
    if (have && old_names == join_lines(names) &&
        server_certificate_current(out.cert_pem, static_cast<long long>(std::time(nullptr)))) {
        return true;
    }
    out.issued = true;
    return issue_server_certificate(ca_key, out.ca_pem, names, out.key_pem, out.cert_pem, err) &&
           write_file(key_path, out.key_pem, 0600, err) && write_file(crt_path, out.cert_pem, 0644, err) &&
           write_file(names_path, join_lines(names), 0644, err);
}

} // namespace roost
