// The addresses a browser on the LAN opens Roost at: printed in the start-up
// banner (main.cpp) and by `roost qr` (cli.cpp), one rule for both.
#pragma once

#include <string>
#include <vector>

namespace roost {

// One host Roost answers on, with its URLs ("" for a port that is off).
struct LanUrl {
    std::string host;  // an address as in a URL: "192.168.1.23", "[fd00::5]", "localhost"
    bool loopback = false; // a phone cannot reach it
    std::string http;  // "http://192.168.1.23:8080/"
    std::string https; // "https://192.168.1.23:8443/"
};

// The bound address when `bind` names one (not empty, "0.0.0.0" or "::"),
// else every address of the machine but loopback (certificate_names()
// order: IPv4 and IPv6 sorted), else "localhost" alone. Ports below 0 are
// off.
[[nodiscard]] std::vector<LanUrl> lan_urls(const std::string& bind, int http_port, int https_port);

// The URL for a phone's camera: the first http URL a phone can reach, IPv4
// preferred (http: nothing to trust first); empty when there is none.
[[nodiscard]] std::string qr_url(const std::vector<LanUrl>& urls);

// "http://NAME.local:PORT/" when this machine has a single-label host name
// (avahi-daemon announces it as NAME.local) and http is on; else "".
[[nodiscard]] std::string local_name_url(int http_port);

} // namespace roost
