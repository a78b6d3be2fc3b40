#include "platform/lan_urls.h"

#include "platform/certs.h"

namespace roost {
namespace {

bool is_loopback(const std::string& ip) {
    return ip == "localhost" || ip == "::1" || ip.rfind("127.", 0) == 0;
}

LanUrl url_for(const std::string& ip, int http_port, int https_port) {
    LanUrl u;
    const bool v6 = ip.find(':') != std::string::npos;
    u.host = v6 ? "[" + ip + "]" : ip;
    u.loopback = is_loopback(ip);
    if (http_port >= 0) u.http = "http://" + u.host + ":" + std::to_string(http_port) + "/";
    if (https_port >= 0) u.https = "https://" + u.host + ":" + std::to_string(https_port) + "/";
    return u;
}

} // namespace

std::vector<LanUrl> lan_urls(const std::string& bind, int http_port, int https_port) {
    std::vector<LanUrl> out;
    if (!bind.empty() && bind != "0.0.0.0" && bind != "::") {
        out.push_back(url_for(bind, http_port, https_port));
        return out;
    }
    for (const std::string& name : certificate_names()) {
        if (name.rfind("IP:", 0) == 0 && name != "IP:127.0.0.1" && name != "IP:::1") {
            out.push_back(url_for(name.substr(3), http_port, https_port));
        }
    }
    if (out.empty()) out.push_back(url_for("localhost", http_port, https_port));
    return out;
}

std::string qr_url(const std::vector<LanUrl>& urls) {
    std::string best;
    for (const LanUrl& u : urls) {
        if (u.loopback || u.http.empty()) continue;
        const bool v6 = u.host[0] == '[';
        if (best.empty() || (!v6 && best.find('[') != std::string::npos)) best = u.http;
    }
    return best;
}

std::string local_name_url(int http_port) {
    if (http_port < 0) return "";
    for (const std::string& name : certificate_names()) {
        if (name.size() > 10 && name.rfind("DNS:", 0) == 0 && name.compare(name.size() - 6, 6, ".local") == 0) {
            return "http://" + name.substr(4) + ":" + std::to_string(http_port) + "/";
        }
    }
    return "";
}

} // namespace roost
