// libFuzzer target for the HTTP API (platform/http_*.cpp): the input is raw
// HTTP/1.1 bytes, requests back to back on one connection, as lws would hand
// them to Roost (tests/fuzz/fake_exchange.h). Each request runs through the
// real handlers against a FakeExchange, under two brokers: one open, one
// with tokens, a low post rate and an Origin allow-list. After every request:
//   - exactly one response: one status line, a body of exactly its
//     Content-Length (none for HEAD and 304), written to its end, completed
//     once; Connection: close exactly when the connection closes;
//   - a status the contract lists, and for an error the documented JSON
//     shape {"error":{code,message}} with a code of that status;
//   - every JSON body one complete, strict JSON document; /metrics whole
//     Prometheus lines; the page's files byte for byte; SSE events whole;
//   - nothing stored changed unless a post answered 201, and then exactly
//     its message, with the seq and epoch it answered;
//   - a complete request never waits for its deadline;
//   - every lent buffer and scratch returned when the connection closes.
// A broken invariant aborts, so libFuzzer keeps the input.
#include "platform/settings.h"
#include "platform/assets.h"
#include "platform/conn.h"
#include "platform/http.h"
#include "platform/runtime.h"
#include "tests/fuzz/broker_snapshot.h"
#include "tests/fuzz/fake_exchange.h"
#include "tests/fuzz/json_check.h"

#include <cjson/cJSON.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

using namespace roost;
using namespace roost::fuzz;

void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_http: broken invariant: %s\n%s\n", what, detail.substr(0, 2000).c_str());
    std::abort();
}

void check(bool ok, const char* what, const std::string& detail = {}) {
    if (!ok) fail(what, detail);
}

// Small tables, so that limits are met within a short input. The second
// broker has tokens, a low post rate, an Origin list and a member in every
// room slot.
Settings base_settings() {
    Settings s;
    s.http_port = 8080;
    s.https_port = 8443;
    s.max_connections = 4;
    s.limits.max_rooms = 4;
    s.limits.ring_msgs = 8;
    s.limits.ring_bytes = 16384;
    s.limits.max_sessions = 2;
    s.limits.max_nicks = 4;
    s.limits.max_text = 256;
    s.limits.max_frame = 1024;
    s.limits.max_body = 1024;
    s.limits.max_data_keys = 4;
    s.limits.max_data_string = 32;
    s.limits.max_cid = 16;
    s.limits.max_addresses = 4;
    s.limits.addr_rate = 1000000;
    s.limits.addr_burst = 1000000;
    return s;
}

Settings token_settings() {
    Settings s = base_settings();
    s.limits.addr_rate = 1;
    s.limits.addr_burst = 3;
    s.origins = {"http://good.example:8080"};
    for (const char* spec : {"kitchen kitchensecret0123456789 rooms=tt,other", "all everythingsecret0123456789 rooms=*",
                             "reader readersecret0123456789 read=* write=tt"}) {
        const char* argv[] = {"roost", "--token", spec};
        Settings tmp;
        if (parse_args(3, argv, tmp).action != ArgsAction::run) fail("a token of the fuzz settings is refused", spec);
        s.tokens.push_back(tmp.tokens.front());
    }
    return s;
}

// The codes each status may carry (docs/protocol.md, HTTP errors).
bool documented(unsigned status, const std::string& code) {
    struct Row {
        unsigned status;
        const char* codes[5];
    };
    static const Row rows[] = {
        {400, {"bad_request", "bad_json", "bad_utf8", "text_too_long", nullptr}},
        {401, {"unauthorized", nullptr}},
        {403, {"forbidden", nullptr}},
        {404, {"not_found", "no_such_room", "no_such_device", nullptr}},
        {405, {"method_not_allowed", nullptr}},
        {408, {"request_timeout", nullptr}},
        {411, {"length_required", nullptr}},
        {413, {"too_large", nullptr}},
        {415, {"unsupported_type", nullptr}},
        {429, {"rate_limited", nullptr}},
        {503, {"server_busy", "too_many_rooms", nullptr}},
        {507, {"server_busy", nullptr}},
    };
    for (const Row& r : rows) {
        if (r.status != status) continue;
        for (const char* const* c = r.codes; *c != nullptr; ++c) {
            if (code == *c) return true;
        }
    }
    return false;
}

std::string error_code(const std::string& body) {
    cJSON* root = cJSON_ParseWithLength(body.data(), body.size());
    const cJSON* code = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "error"), "code");
    std::string out = cJSON_IsString(code) ? code->valuestring : "";
    cJSON_Delete(root);
    return out;
}

// A JSON object's unsigned integer member, or -1.
long long member_uint(const cJSON* o, const char* name) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? static_cast<long long>(v->valuedouble) : -1;
}

std::string member_string(const cJSON* o, const char* name) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

// Every line of /metrics: a comment, or `name[{labels}] value`.
void check_metrics(const std::string& text) {
    check(!text.empty() && text.back() == '\n', "/metrics ends with a newline", text.substr(text.size() > 200 ? text.size() - 200 : 0));
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t nl = text.find('\n', at);
        const std::string l = text.substr(at, nl - at);
        at = nl + 1;
        if (l.rfind("# HELP ", 0) == 0 || l.rfind("# TYPE ", 0) == 0) continue;
        const std::size_t sp = l.rfind(' ');
        check(sp != std::string::npos && sp + 1 < l.size() && l.rfind("roost_", 0) == 0, "a /metrics line", l);
        // Counters and gauges are whole numbers; a device's value is any
        // finite number (decimals, a sign, an exponent), its last-seen time
        // seconds with milliseconds.
        const std::string v = l.substr(sp + 1);
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        check(end == v.c_str() + v.size() && std::isfinite(d) && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')),
              "a /metrics value is a finite number", l);
        if (l.rfind("roost_device_", 0) != 0) {
            for (char ch : v) check(ch >= '0' && ch <= '9', "a /metrics counter or gauge is a whole number", l);
        }
    }
}

// SSE: "event: msg\nid: N\ndata: JSON\n\n" each, ids ascending by one, in `room`.
void check_sse(const std::string& body, const std::string& room) {
    std::size_t at = 0;
    long long prev = -1;
    while (at < body.size()) {
        check(body.compare(at, 11, "event: msg\n") == 0, "an SSE event starts with event: msg", body.substr(at, 80));
        at += 11;
        check(body.compare(at, 4, "id: ") == 0, "an SSE event has an id", body.substr(at, 80));
        const std::size_t nl = body.find('\n', at);
        const long long id = std::atoll(body.substr(at + 4, nl - at - 4).c_str());
        check(prev < 0 || id == prev + 1, "SSE ids ascend by one", body.substr(at, 80));
        prev = id;
        at = nl + 1;
        check(body.compare(at, 6, "data: ") == 0, "an SSE event has data", body.substr(at, 80));
        const std::size_t end = body.find("\n\n", at);
        check(end != std::string::npos, "an SSE event ends with a blank line", body.substr(at, 80));
        const std::string data = body.substr(at + 6, end - at - 6);
        check(json_object(data), "SSE data is one JSON object", data);
        cJSON* msg = cJSON_ParseWithLength(data.data(), data.size());
        check(member_uint(msg, "seq") == id && member_string(msg, "room") == room, "SSE data is the msg of its id",
              data);
        cJSON_Delete(msg);
        at = end + 2;
    }
}

// The body of a successful answer, by what was asked.
void check_success(const FakeRequest& req, const FakeExchange& ex, const BrokerState& before,
                   const BrokerState& after) {
    const std::string& body = ex.body;
    if (ex.type == "application/json") {
        check(json_object(body), "a JSON answer is one complete JSON object", body);
    }
    if (req.path == "/metrics") {
        check(ex.type == "text/plain; version=0.0.4", "/metrics is Prometheus text", ex.type);
        if (req.method != HttpMethod::head) check_metrics(body);
        return;
    }
    if (req.path == "/api/rooms" || req.path == "/healthz") {
        check(ex.type == "application/json", "a JSON answer says so", ex.type);
        return;
    }
    if (req.path.rfind("/api/rooms/", 0) == 0) {
        const std::size_t slash = req.path.find('/', 11);
        std::string room = req.path.substr(11, slash - 11);
        for (char& ch : room) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        const bool events = req.path.compare(slash + 1, std::string::npos, "events") == 0;
        if (events) {
            check(ex.type == "text/event-stream" && ex.length == kHttpStreamLength, "SSE answers an event stream",
                  ex.type);
            check_sse(body, room);
            return;
        }
        check(ex.type == "application/json", "a history, post or devices answer is JSON", ex.type);
        cJSON* doc = cJSON_ParseWithLength(body.data(), body.size());
        const std::string answered_room = member_string(doc, "room");
        check(answered_room == room, "the answer names the room asked", body);
        if (slash != std::string::npos && req.path.compare(slash + 1, 7, "devices") == 0) {
            // The device list, or one key's series: one whole object (checked
            // above, also when streamed without a length) of the room's devices.
            const bool series = req.path.find("/series", slash + 8) != std::string::npos;
            check(series ? cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "points"))
                         : cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "devices")),
                  "a devices answer lists devices, a series answer its points", body);
            cJSON_Delete(doc);
            return;
        }
        const RoomState* was = nullptr;
        const RoomState* now = nullptr;
        for (std::size_t i = 0; i < after.size(); ++i) {
            if (before[i].used && before[i].name == room) was = &before[i];
            if (after[i].used && after[i].name == room) now = &after[i];
        }
        check(now != nullptr, "an answered room exists", body);
        if (req.method == HttpMethod::post) {
            const long long seq = member_uint(doc, "seq");
            check(seq >= 1 && member_string(doc, "epoch") == now->epoch && member_uint(doc, "ts") >= 0,
                  "a post's answer has seq, epoch and ts", body);
            if (ex.status == 201) {
                check(static_cast<std::uint64_t>(seq) == now->head, "201: its seq is the room's new head", body);
                check(now->head == (was != nullptr && was->epoch == now->epoch ? was->head + 1 : 1),
                      "201: exactly one message was stored", body);
            } else {
                check(ex.status == 200 && was != nullptr && *was == *now, "200: a retry stores nothing", body);
            }
        } else {
            const cJSON* msgs = cJSON_GetObjectItemCaseSensitive(doc, "messages");
            check(cJSON_IsArray(msgs) && member_uint(doc, "head") == static_cast<long long>(now->head) &&
                      member_uint(doc, "oldest") == static_cast<long long>(now->oldest) &&
                      member_string(doc, "epoch") == now->epoch,
                  "a history answer has the room's head, oldest and epoch", body);
            long long prev = -1;
            const cJSON* m = nullptr;
            cJSON_ArrayForEach(m, msgs) {
                const long long seq = member_uint(m, "seq");
                check(seq > prev && member_string(m, "room") == room &&
                          static_cast<std::uint64_t>(seq) >= now->oldest && static_cast<std::uint64_t>(seq) <= now->head,
                      "history messages ascend, in the room, within oldest..head", body);
                prev = seq;
            }
        }
        cJSON_Delete(doc);
        return;
    }
    // The page's files, byte for byte (or a 304 without a body).
    if (ex.status == 304 || req.method == HttpMethod::head) return;
    const Asset* a = find_asset(req.path.c_str());
    if (a == nullptr) return; // /ca.crt: the TLS material's (none here)
    const bool gz = ex.field("content-encoding") != nullptr;
    const std::string_view want = gz ? std::string_view(reinterpret_cast<const char*>(a->gzip), a->gzip_size)
                                     : std::string_view(reinterpret_cast<const char*>(a->data), a->size);
    check(body == want && ex.type == a->content_type, "a page file is served whole", req.path);
}

// One connection: its Conn (lws zeroes it when the connection is made) and
// the request whose response is still being written, if any. Responses of
// several connections are under way at once, holding their buffers: the
// input names the connection of each request by its Host header's first
// byte (the handlers never read Host).
struct Connection {
    Conn c{};
    bool busy = false;   // a response is under way
    bool open = true;    // false once a callback ended the connection
    FakeRequest req;
    std::unique_ptr<FakeExchange> ex;
    BrokerState before, after;
};
constexpr std::size_t kConnections = 20;

void reset(Connection& k) {
    std::memset(static_cast<void*>(&k.c), 0, sizeof(Conn));
    k.busy = false;
    k.open = true;
    k.ex.reset();
}

void step(Connection& k, int r) {
    if (r != 0) {
        check(k.ex->closed && r == -1, "a callback ends the connection only by completing with close",
              std::to_string(r));
        k.open = false;
    }
}

// The request comes in (its body too): the status and what it stored are
// judged now; its body when finish() has written it.
void start(Runtime& rt, Connection& k, const FakeRequest& req) {
    k.req = req;
    k.before = snapshot(rt.broker);
    k.ex = std::make_unique<FakeExchange>(k.req);
    k.busy = true;
    FakeExchange& ex = *k.ex;
    Conn& c = k.c;
    step(k, http_request(rt, ex, c, k.req.path.c_str()));
    // The body, in up to three pieces, as lws hands it over.
    if (k.open && req.has_length && !req.body.empty()) {
        const std::size_t n = req.body.size();
        const std::size_t cuts[] = {0, n / 3, n - n / 4, n};
        for (int i = 0; i < 3 && k.open; ++i) {
            if (cuts[i + 1] > cuts[i]) step(k, http_body(rt, ex, c, k.req.body.data() + cuts[i], cuts[i + 1] - cuts[i]));
        }
    }
    if (k.open && req.has_length && req.body_complete) step(k, http_body_done(rt, ex, c));
    if (k.open && !req.body_complete && ex.timer_armed) step(k, http_timer(rt, ex, c)); // the body never came: 408
    k.after = snapshot(rt.broker);
    const unsigned st = ex.status;
    check(ex.headers_sent == 1, "exactly one status line per request", std::to_string(ex.headers_sent));
    check(!ex.timer_armed || !req.body_complete, "a complete request is answered without its deadline",
          req.method_name + " " + req.path);
    static const unsigned kStatuses[] = {200, 201, 304, 400, 401, 403, 404, 405, 408, 411, 413, 415, 429, 503, 507};
    bool listed = false;
    for (unsigned v : kStatuses) listed = listed || v == st;
    check(listed, "a status the contract lists", std::to_string(st));
    // Nothing stored changes but by a 201.
    if (st != 201) {
        for (std::size_t i = 0; i < k.before.size(); ++i) {
            check(k.before[i] == k.after[i], "a request that is not a stored post changes nothing stored",
                  std::to_string(st) + " " + req.method_name + " " + req.path + " room slot " + std::to_string(i));
        }
    } else {
        std::size_t changed = 0;
        for (std::size_t i = 0; i < k.before.size(); ++i) changed += k.before[i] != k.after[i] ? 1 : 0;
        check(req.method == HttpMethod::post && changed == 1, "a 201 stores one message in one room");
    }
}

// WRITEABLE until the response is out, then its body is judged. An event
// stream ends here (the client goes), as does a connection a callback ended.
void finish(Runtime& rt, Connection& k) {
    if (!k.busy) return;
    FakeExchange& ex = *k.ex;
    for (int n = 0; k.open && ex.writable_asked && n < 100000; ++n) {
        ex.writable_asked = false;
        step(k, http_writeable(rt, ex, k.c));
        if (ex.completions > 0) break;
    }
    const FakeRequest& req = k.req;
    const bool sse = k.c.kind == ConnKind::sse;
    const unsigned st = ex.status;
    if (std::getenv("ROOST_FUZZ_TRACE") != nullptr) { // replaying an input: what each request got
        std::fprintf(stderr, "%s %s -> %u %s%s\n", req.method_name.c_str(), req.path.c_str(), st,
                     ex.body.substr(0, 160).c_str(), ex.closed ? " [closed]" : "");
    }
    if (!sse) {
        check(ex.completions == 1 || !k.open, "the response is completed once", req.path);
        const bool bodiless = req.method == HttpMethod::head || st == 304;
        // A large answer is streamed without a length: it ends when the
        // connection closes (lws then says Connection: close itself).
        const bool streamed = !bodiless && ex.length == kHttpStreamLength;
        check(bodiless || streamed ? ex.body.empty() || streamed : ex.body.size() == ex.length,
              "the body is exactly its Content-Length", std::to_string(ex.body.size()) + " of " + std::to_string(ex.length));
        check(!ex.writes_after_last && (ex.length == 0 || bodiless || ex.last_seen), "the body ends once, at its end");
        const std::string* conn = ex.field("connection");
        check((streamed || (conn != nullptr && *conn == "close")) == ex.closed,
              "Connection: close exactly when it closes (a streamed answer closes)");
    }
    if (st >= 400 && req.method == HttpMethod::head) {
        check(ex.type == "application/json" && ex.body.empty(), "HEAD: an error's headers alone");
    } else if (st >= 400) {
        check(ex.type == "application/json" && json_error_shape(ex.body), "an error is {\"error\":{code,message}}",
              ex.body);
        const std::string code = error_code(ex.body);
        check(documented(st, code), "an error code the contract lists for its status",
              std::to_string(st) + " " + code);
        if (st == 405) check(ex.field("allow") != nullptr, "405 says Allow");
        if (st == 429) check(ex.field("retry-after") != nullptr, "429 says Retry-After");
        if (st == 411 || st == 408 || st == 413) check(ex.closed, "an unknown or refused length closes", code);
    }
    if (st < 300 && req.method != HttpMethod::head) check_success(req, ex, k.before, k.after);
    k.busy = false;
    if (sse || !k.open) {
        http_closed(rt, ex, k.c); // the client goes (an event stream ends only so)
        for (const auto& l : rt.sse_by_room) check(l.empty(), "a closed stream leaves its room's list");
        reset(k);
    }
}

class Fixture {
public:
    // `member`: a WebSocket session (driven through the core) holds every
    // room slot (tt, m1, m2, m3), so no room is idle to be recycled.
    Fixture(Settings s, const char* member) : settings_(std::move(s)), clock_(1700000000000ull), random_(42) {
        const ArgsResult r = check_settings(settings_);
        if (r.action != ArgsAction::run) fail("the fuzz settings are refused", r.message);
        rt_ = std::make_unique<Runtime>(settings_, tls_, clock_, random_);
        rt_->origins.set({"DNS:localhost", "IP:127.0.0.1"}, 8080, 8443, settings_.origins);
        if (member != nullptr) {
            const std::uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
            session_ = rt_->broker.open_session(addr);
            frame(std::string(R"({"type":"hello","nick":"member","token":")") + member + "\"}");
            for (const char* room : {"tt", "m1", "m2", "m3"}) frame(std::string(R"({"type":"join","room":")") + room + "\"}");
            check(rt_->broker.room_count() == settings_.limits.max_rooms, "the member holds every room slot");
        }
    }
    // The member's frame, and everything it is sent (so it stays a member).
    void frame(const std::string& json) {
        if (!json.empty()) rt_->broker.on_frame(session_, json.data(), json.size());
        Frame f;
        while (session_ != 0 && rt_->broker.next_frame(session_, f)) {
        }
    }
    void run(std::string_view in) {
        auto conns = std::make_unique<Connection[]>(kConnections);
        for (std::size_t i = 0; i < kConnections; ++i) reset(conns[i]);
        FakeRequest req;
        for (int n = 0; n < 32 && parse_request(in, req); ++n) {
            clock_.advance(700);
            const std::string* host = req.find("host");
            Connection& k = conns[host == nullptr || host->empty() ? 0 : static_cast<unsigned char>((*host)[0]) % kConnections];
            finish(*rt_, k); // one request at a time per connection
            start(*rt_, k, req);
            if (k.c.kind == ConnKind::sse) finish(*rt_, k); // streams end before others post (stream() is null here)
            frame({});
        }
        for (std::size_t i = 0; i < kConnections; ++i) {
            finish(*rt_, conns[i]);
            FakeRequest none;
            FakeExchange ex(none);
            http_closed(*rt_, ex, conns[i].c); // the input ends: the clients go
        }
        check(rt_->pool.in_use() == 0 && rt_->scratch.in_use() == 0, "closed connections hold no buffer or scratch");
    }

private:
    Settings settings_;
    TlsMaterial tls_;
    FakeClock clock_;
    SplitMix random_;
    std::unique_ptr<Runtime> rt_;
    SessionId session_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    static const Settings open = base_settings();
    static const Settings guarded = token_settings();
    Fixture(open, nullptr).run(in);
    Fixture(guarded, "everythingsecret0123456789").run(in);
    return 0;
}
