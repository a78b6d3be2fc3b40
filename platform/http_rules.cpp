#include "platform/http_rules.h"

#include <cstddef>

namespace roost {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

} // namespace

BodyType body_type(std::string_view content_type) {
    const std::size_t semi = content_type.find(';');
    const std::string_view media = trim(content_type.substr(0, semi));
    BodyType type = BodyType::unsupported;
    if (iequal(media, "text/plain")) {
        type = BodyType::text;
    } else if (iequal(media, "application/json")) {
        type = BodyType::json;
    } else {
        return BodyType::unsupported;
    }
    std::string_view params = semi == std::string_view::npos ? std::string_view() : content_type.substr(semi + 1);
    while (!params.empty()) {
        const std::size_t next = params.find(';');
        const std::string_view param = trim(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
        if (param.empty()) continue;
        const std::size_t eq = param.find('=');
        if (eq == std::string_view::npos) return BodyType::unsupported;
        const std::string_view name = trim(param.substr(0, eq));
        std::string_view value = trim(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        if (iequal(name, "charset") && !iequal(value, "utf-8") && !iequal(value, "utf8") &&
            !(type == BodyType::text && iequal(value, "us-ascii"))) {
            return BodyType::unsupported;
        }
    }
    return type;
}

bool parse_seq(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 16) return false;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v >= (std::uint64_t{1} << 53)) return false;
    out = v;
    return true;
}

bool foreign_fetch(std::string_view sec_fetch_site) {
    const std::string_view v = trim(sec_fetch_site);
    return !v.empty() && !iequal(v, "same-origin") && !iequal(v, "none");
}

void OriginPolicy::set(const std::vector<std::string>& names, int http_port, int https_port,
                       const std::vector<std::string>& extra) {
    hosts_.clear();
    for (const std::string& n : names) {
        const std::size_t colon = n.find(':');
        hosts_.push_back(lowered(colon == std::string::npos ? n : n.substr(colon + 1)));
    }
    extra_.clear();
    any_ = false;
    for (const std::string& o : extra) {
        if (o == "*") any_ = true;
        extra_.push_back(lowered(trim(o)));
    }
    http_port_ = http_port;
    https_port_ = https_port;
}

bool OriginPolicy::allowed(std::string_view origin) const {
    if (any_) return true;
    const std::string o = lowered(trim(origin));
    for (const std::string& e : extra_) {
        if (o == e) return true;
    }
    // scheme "://" host [":" port], nothing else.
    std::string_view rest(o);
    int port = 0;
    int want = -1;
    if (rest.substr(0, 7) == "http://") {
        rest.remove_prefix(7);
        port = 80;
        want = http_port_;
    } else if (rest.substr(0, 8) == "https://") {
        rest.remove_prefix(8);
        port = 443;
        want = https_port_;
    } else {
        return false;
    }
    std::string_view host;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return false;
        host = rest.substr(1, close - 1);
        rest.remove_prefix(close + 1);
    } else {
        const std::size_t colon = rest.find(':');
        host = rest.substr(0, colon);
        rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon);
    }
    if (!rest.empty()) {
        if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
        port = 0;
        for (char c : rest.substr(1)) {
            if (c < '0' || c > '9') return false;
            port = port * 10 + (c - '0');
        }
    }
    if (host.empty() || want < 0 || port != want) return false;
    for (char c : host) {
        // A host name or address: no user info, path, query or spaces.
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':')) return false;
    }
    for (const std::string& h : hosts_) {
        if (h == host) return true;
    }
    return false;
}

} // namespace roost
