// FakeExchange and the request parser the HTTP fuzz target feeds it from
// (fake_exchange.h). The parser keeps to what lws (with Roost's patches)
// hands to the callback: anything lws answers itself ends the input.
#include "tests/fuzz/fake_exchange.h"

#include <cstring>

namespace roost::fuzz {

namespace {

// lws's header table (max_http_header_data): longer requests get 414/431.
constexpr std::size_t kHeaderTable = 4096;

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX decoding; false for a bad escape or a NUL (lws refuses both).
bool decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const int h = hex(in[i + 1]), l = hex(in[i + 2]);
            if (h < 0 || l < 0) return false;
            c = static_cast<char>(h * 16 + l);
            i += 2;
        }
        if (c == '\0') return false;
        out += c;
    }
    return true;
}

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || std::strchr("!#$%&'*+-.^_`|~", c);
}

// One line up to LF (a CR before it dropped); false at the end of input.
bool line(std::string_view& in, std::string_view& out) {
    const std::size_t nl = in.find('\n');
    if (nl == std::string_view::npos) return false;
    out = in.substr(0, nl);
    if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
    in.remove_prefix(nl + 1);
    return true;
}

struct Method {
    const char* name;
    HttpMethod method;
};
const Method kMethods[] = {{"GET", HttpMethod::get},      {"HEAD", HttpMethod::head},     {"POST", HttpMethod::post},
                           {"PUT", HttpMethod::other},    {"PATCH", HttpMethod::other},   {"DELETE", HttpMethod::other},
                           {"OPTIONS", HttpMethod::other}, {"CONNECT", HttpMethod::other}};

const char* known_name(HttpHeader h) {
    switch (h) {
    case HttpHeader::authorization: return "authorization";
    case HttpHeader::origin: return "origin";
    case HttpHeader::accept_encoding: return "accept-encoding";
    case HttpHeader::if_none_match: return "if-none-match";
    case HttpHeader::content_type: return "content-type";
    case HttpHeader::content_length: return "content-length";
    case HttpHeader::transfer_encoding: return "transfer-encoding";
    case HttpHeader::sec_fetch_site: return "sec-fetch-site";
    case HttpHeader::idempotency_key: return "idempotency-key";
    case HttpHeader::last_event_id: return "last-event-id";
    }
    return "";
}

// The headers lws knows by token (the others it keeps by name).
bool by_token(HttpHeader h) {
    return h != HttpHeader::sec_fetch_site && h != HttpHeader::idempotency_key && h != HttpHeader::last_event_id;
}

} // namespace

const std::string* FakeRequest::find(std::string_view name) const {
    for (const auto& h : headers) {
        if (h.first == name) return &h.second;
    }
    return nullptr;
}

bool parse_request(std::string_view& in, FakeRequest& out) {
    out = FakeRequest{};
    while (!in.empty() && (in.front() == '\r' || in.front() == '\n')) in.remove_prefix(1);
    std::string_view first;
    if (!line(in, first) || first.size() > kHeaderTable) return false;
    const std::size_t sp1 = first.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : first.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return false;
    const std::string_view method = first.substr(0, sp1), target = first.substr(sp1 + 1, sp2 - sp1 - 1),
                           version = first.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return false;
    bool known = false;
    for (const Method& m : kMethods) {
        if (method == m.name) out.method = m.method, known = true;
    }
    if (!known || target.empty() || target.front() != '/') return false;
    out.method_name = std::string(method);
    const std::size_t q = target.find('?');
    if (!decode(target.substr(0, q), out.path)) return false;
    if (q != std::string_view::npos) {
        std::string_view query = target.substr(q + 1);
        while (!query.empty()) {
            const std::size_t amp = query.find('&');
            const std::string_view piece = query.substr(0, amp);
            std::string arg;
            if (!decode(piece, arg)) return false;
            if (!arg.empty()) out.args.push_back(std::move(arg));
            query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        }
    }
    std::size_t table = first.size();
    std::string_view l;
    while (true) {
        if (!line(in, l)) return false;
        if (l.empty()) break;
        table += l.size();
        const std::size_t colon = l.find(':');
        if (colon == std::string_view::npos || colon == 0 || table > kHeaderTable) return false;
        std::string name;
        for (char c : l.substr(0, colon)) {
            if (!is_token_char(c)) return false;
            name += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        std::string_view value = l.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        if (value.find('\0') != std::string_view::npos) return false;
        out.headers.emplace_back(std::move(name), std::string(value));
    }
    // Content-Length as lws (patch 0003) takes it: one, digits, trailing
    // spaces; not with Transfer-Encoding. Anything else lws answers 400.
    std::size_t lengths = 0;
    std::string_view cl;
    for (const auto& h : out.headers) {
        if (h.first == "content-length") ++lengths, cl = h.second;
    }
    if (lengths > 1 || (lengths == 1 && out.find("transfer-encoding") != nullptr)) return false;
    if (lengths == 1) {
        std::uint64_t n = 0;
        std::size_t i = 0;
        for (; i < cl.size() && cl[i] >= '0' && cl[i] <= '9'; ++i) {
            if (n > (1ull << 40)) return false;
            n = n * 10 + static_cast<std::uint64_t>(cl[i] - '0');
        }
        if (i == 0) return false;
        while (i < cl.size() && cl[i] == ' ') ++i;
        if (i != cl.size()) return false;
        out.has_length = true;
        const std::size_t take = n < in.size() ? static_cast<std::size_t>(n) : in.size();
        out.body.assign(in.substr(0, take));
        out.body_complete = take == n;
        in.remove_prefix(take);
    }
    return true;
}

int FakeExchange::header(HttpHeader h, char* out, std::size_t cap) {
    const char* name = known_name(h);
    std::string value;
    bool found = false;
    for (const auto& kv : req_.headers) {
        if (kv.first != name) continue;
        if (!by_token(h)) { // lws finds the first of a name it does not know
            value = kv.second;
            found = true;
            break;
        }
        if (kv.second.empty()) continue;
        value += (found ? "," : "") + kv.second;
        found = true;
    }
    out[0] = '\0';
    if (!found || value.empty()) return 0;
    if (value.size() + 1 > cap) return -1;
    std::memcpy(out, value.data(), value.size());
    out[value.size()] = '\0';
    return static_cast<int>(value.size());
}

bool FakeExchange::has_header(HttpHeader h) {
    const char* name = known_name(h);
    for (const auto& kv : req_.headers) {
        if (kv.first == name && (!by_token(h) || !kv.second.empty())) return true;
    }
    return false;
}

int FakeExchange::url_arg(const char* name, char* out, std::size_t cap) {
    const std::size_t n = std::strlen(name);
    for (const std::string& a : req_.args) {
        if (a.size() < n || a.compare(0, n, name) != 0) continue;
        const std::size_t v = a.size() - n;
        if (v + 1 > cap) return -2;
        std::memcpy(out, a.data() + n, v);
        out[v] = '\0';
        return static_cast<int>(v);
    }
    return -1;
}

void FakeExchange::peer(std::uint8_t out[16]) {
    static const std::uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
    std::memcpy(out, loopback, 16);
}

bool FakeExchange::send_headers(unsigned st, const char* t, std::uint64_t len, const HttpField* f, std::size_t count) {
    ++headers_sent;
    status = st;
    type = t;
    length = len;
    fields.clear();
    for (std::size_t i = 0; i < count; ++i) {
        std::string name = f[i].name;
        if (!name.empty() && name.back() == ':') name.pop_back();
        fields.emplace_back(std::move(name), f[i].value);
    }
    return true;
}

bool FakeExchange::send_body(char* data, std::size_t size, bool last) {
    if (last_seen) writes_after_last = true;
    // The headroom is the exchange's to write: touch it, as lws does.
    std::memset(data - kHttpHeadroom, 0, kHttpHeadroom);
    body.append(data, size);
    if (last) last_seen = true;
    return true;
}

int FakeExchange::complete(bool close) {
    ++completions;
    closed = close;
    return close ? -1 : 0;
}

const std::string* FakeExchange::field(std::string_view name) const {
    for (const auto& f : fields) {
        if (f.first == name) return &f.second;
    }
    return nullptr;
}

} // namespace roost::fuzz
