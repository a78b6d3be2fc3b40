// TLS material for the HTTPS listener.
//
// With no certificate configured, Roost is its own small certificate
// authority: it makes a local CA once (ECDSA P-256, 10 years) and a server
// certificate signed by it (825 days, the most iOS accepts) whose subject
// alternative names cover the hostname, hostname.local, localhost and every
// current address. Phones trust the CA once (served at /ca.crt) and then
// https/wss work without warnings. With a data directory the CA and the
// certificate are kept there and the certificate is reissued at start when
// the address list changes or it nears its end (server_certificate_current);
// without one they live in memory for this run only.
#pragma once

#include <string>
#include <vector>

namespace roost {

struct Settings;

struct TlsMaterial {
    std::string cert_pem; // server certificate, PEM
    std::string key_pem;  // its private key, PEM
    std::string ca_pem;   // our local CA (empty when the certificate was configured)
    bool issued = false;  // true when this start made a new server certificate
};

// Names and addresses the server certificate must cover, in a stable order:
// "DNS:host", "DNS:host.local", "DNS:localhost", "IP:a.b.c.d", "IP:::1"...
[[nodiscard]] std::vector<std::string> certificate_names();

// Makes a new CA key and self-signed CA certificate (PEM). Returns false and
// sets `err` on failure.
[[nodiscard]] bool make_local_ca(const std::string& hostname, std::string& ca_key_pem,
                                 std::string& ca_cert_pem, std::string& err);

// Lifetimes, notBefore to notAfter: iOS refuses a server certificate valid
// for longer than 825 days; the local CA lasts 10 years.
constexpr long kServerCertificateDays = 825;
constexpr long kLocalCaDays = 3650;
// A kept server certificate is reissued at start when fewer days than this
// remain (Roost renews only at start).
constexpr long kServerCertificateRenewDays = 30;

// Issues a server certificate for `names` (the certificate_names() form),
// signed by the given CA, valid for `days`. Returns false and sets `err` on
// failure.
[[nodiscard]] bool issue_server_certificate(const std::string& ca_key_pem, const std::string& ca_cert_pem,
                                            const std::vector<std::string>& names, std::string& key_pem,
                                            std::string& cert_pem, std::string& err,
                                            long days = kServerCertificateDays);

// Whether a kept server certificate (PEM) can serve on at `now` (seconds
// since the epoch): it parses, is valid for at most kServerCertificateDays
// (older Roosts made 826-day ones), and has more than
// kServerCertificateRenewDays left.
[[nodiscard]] bool server_certificate_current(const std::string& cert_pem, long long now);

// Fills `out` as the settings ask: configured files as given; else the local
// CA and certificate from the data directory, made or reissued as needed;
// else fresh in-memory ones. Returns false and sets `err` on failure.
[[nodiscard]] bool prepare_tls(const Settings& settings, TlsMaterial& out, std::string& err);

} // namespace roost
