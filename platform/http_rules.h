// The rules for the parts of an HTTP request the API reads, as pure
// functions over header and argument text (no lws): one place says what is
// taken and what is refused. The unit tests and the fuzz target call them
// directly; http_api.cpp and protocol.cpp apply them to live requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace roost {

enum class BodyType : std::uint8_t { unsupported, text, json };

// The Content-Type of a post: text/plain or application/json, compared the
// way RFC 9110 says: type and subtype case-insensitive, optional parameters
// after ';' with whitespace around them. A charset parameter must name
// UTF-8 (or US-ASCII, a subset); any other charset, and any other type
// ("text/plainfoo", "application/jsonx", none), is `unsupported`.
[[nodiscard]] BodyType body_type(std::string_view content_type);

// A seq or count as the API takes it (`since`, `limit`, Last-Event-ID):
// 1 to 16 decimal digits, no sign or space, below 2^53 (the largest integer
// every JSON client holds exactly). False for anything else, empty included.
[[nodiscard]] bool parse_seq(std::string_view text, std::uint64_t& out);

// Sec-Fetch-Site as browsers send it: true when the request comes from a
// page of another site or origin ("cross-site", "same-site"); false for
// "same-origin", "none" (typed by the user) and when absent (not a browser).
[[nodiscard]] bool foreign_fetch(std::string_view sec_fetch_site);

// Which browser Origins may open a WebSocket or post: the page's own, as
// served from one of the names and addresses of this machine (the ones its
// certificate carries) on one of the broker's ports, plus the `origins`
// setting ("*" allows any). Without an Origin header (curl, devices,
// scripts) there is nothing to check; that is the caller's business.
class OriginPolicy {
public:
    // `names`: "DNS:host" / "IP:addr" as certificate_names() lists them;
    // `http_port` / `https_port`: the bound ports (-1: off); `extra`: the
    // origins setting, each "scheme://host[:port]" compared exactly (after
    // lower-casing), or "*".
    void set(const std::vector<std::string>& names, int http_port, int https_port,
             const std::vector<std::string>& extra);
    // True when `origin` ("http://192.168.1.23:8080") may connect. "null",
    // unknown schemes, user info, paths and malformed values are refused.
    [[nodiscard]] bool allowed(std::string_view origin) const;

private:
    std::vector<std::string> hosts_; // lower case; IPv6 without brackets
    std::vector<std::string> extra_; // lower case
    bool any_ = false;
    int http_port_ = -1, https_port_ = -1;
};

} // namespace roost
