// HTTP requests: routing, the API's posts and reads (history, the room
// list), /healthz, /ca.crt and the packed page. Responses are written by
// http_response.cpp; SSE and /metrics live in files of their own (http.h).
#include "broker/json_writer.h"
#include "broker/names.h"
#include "broker/utf8.h"
#include "broker/version.h"
#include "platform/assets.h"
#include "platform/conn.h"
#include "platform/http.h"
#include "platform/http_rules.h"
#include "platform/journal.h"
#include "platform/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace roost {

namespace {

// The bearer token of the request, if tokens are configured. Returns false
// (after answering 401/403) when the request may not go on.
bool authorized(Runtime& rt, HttpExchange& ex, Conn& c, std::string_view room, bool write, const TokenSpec** who,
                int& rc) {
    *who = nullptr;
    if (rt.settings.tokens.empty()) {
        return true;
    }
    char auth[256];
    const int n = ex.header(HttpHeader::authorization, auth, sizeof auth);
    const std::string_view a(auth, n > 0 ? static_cast<std::size_t>(n) : 0);
    const TokenSpec* t = a.size() > 7 && a.substr(0, 7) == "Bearer " ? find_token(rt.settings, a.substr(7)) : nullptr;
    if (t == nullptr) {
        rc = http_error(rt, ex, c, 401, "unauthorized", n > 0 ? "wrong token" : "a bearer token is required");
        return false;
    }
    if (!token_allows(*t, room, write)) {
        rc = http_error(rt, ex, c, 403, "forbidden", "this token may not use that room");
        return false;
    }
    *who = t;
    return true;
}

// The configured token the request presents, for answers that list rooms:
// `present` says whether an Authorization header came at all; nullptr with
// present means a wrong token.
const TokenSpec* presented_token(Runtime& rt, HttpExchange& ex, bool& present) {
    char auth[256];
    const int n = ex.header(HttpHeader::authorization, auth, sizeof auth);
    present = n > 0;
    const std::string_view a(auth, n > 0 ? static_cast<std::size_t>(n) : 0);
    return a.size() > 7 && a.substr(0, 7) == "Bearer " ? find_token(rt.settings, a.substr(7)) : nullptr;
}

// "/api/rooms/{room}/{what}" -> folded room, what. False if not that shape.
bool split_room_path(std::string_view path, char* room_out, std::string_view& room, std::string_view& what,
                     bool& is_dm) {
    const std::string_view prefix = "/api/rooms/";
    if (path.substr(0, prefix.size()) != prefix) return false;
    path.remove_prefix(prefix.size());
    const std::size_t slash = path.find('/');
    if (slash == std::string_view::npos) return false;
    const std::string_view raw = path.substr(0, slash);
    what = path.substr(slash + 1);
    is_dm = is_dm_room_name(raw);
    room = fold_room_name(raw, room_out, kAnyRoomNameMax);
    return true;
}

// The answer without `limit` (the contract's default; `backlog` is the
// WebSocket's).
constexpr std::uint64_t kDefaultHistoryLimit = 50;

int method_not_allowed(Runtime& rt, HttpExchange& ex, Conn& c, HttpMethod method, const char* allow) {
    // A POST (or any method with a body lws does not know) is refused before
    // its body: its length was not checked, so the connection closes.
    if (method != HttpMethod::get && method != HttpMethod::head) c.close_after = true;
    return error_response(rt, ex, c, 405, "method_not_allowed", "see the Allow header", "allow:", allow);
}

// Why a browser page of another site may not post here, or nullptr. Devices
// and scripts send no Origin and no Sec-Fetch-Site: they pass.
const char* foreign_browser_request(Runtime& rt, HttpExchange& ex) {
    char v[256];
    if (ex.header(HttpHeader::sec_fetch_site, v, sizeof v) > 0 && foreign_fetch(v)) {
        return "a page of another site may not post here";
    }
    const int n = ex.header(HttpHeader::origin, v, sizeof v); // 0: none; -1: too long to be ours
    if (n != 0 && (n < 0 || !rt.origins.allowed(std::string_view(v, static_cast<std::size_t>(n))))) {
        rt.log_refused_origin(n > 0 ? v : "(too long)");
        return "that Origin may not post here";
    }
    return nullptr;
}

int serve_history(Runtime& rt, HttpExchange& ex, Conn& c, std::uint32_t ri) {
    const RoomView r = rt.broker.room_view(ri);
    const RoomHistory& hist = r.history();
    std::uint64_t since = 0, limit = kDefaultHistoryLimit;
    bool has_since = false, has_limit = false;
    if (!url_seq(ex, "since=", since, has_since)) {
        return http_error(rt, ex, c, 400, "bad_request", "since: a whole number below 2^53");
    }
    if (!url_seq(ex, "limit=", limit, has_limit) || limit == 0) {
        return http_error(rt, ex, c, 400, "bad_request", "limit: a whole number from 1");
    }
    const std::uint64_t most = std::uint64_t{rt.settings.limits.ring_msgs} + rt.settings.limits.device_ring_msgs;
    if (limit > most) limit = most;
    char epoch[32];
    const int en = ex.url_arg("epoch=", epoch, sizeof epoch); // -2: too long to be one
    const bool epoch_ok =
        en == -1 || (en >= 0 && std::string_view(epoch, static_cast<std::size_t>(en)) == std::string_view(r.epoch()));
    // People's messages and readings, merged by seq (RoomHistory); a replay
    // starts at people's oldest at most.
    const std::uint64_t head = hist.head(), oldest = hist.oldest();
    bool recovered = false;
    std::uint64_t first;
    if (has_since && epoch_ok && since <= head) {
        recovered = since + 1 >= oldest;
        first = since + 1 < oldest ? oldest : since + 1;
    } else {
        first = hist.nth_newest(limit);
        if (first < oldest) first = oldest;
    }
    char* out = lend_buffer(rt, c);
    if (out == nullptr) return busy(rt, ex, c);
    JsonWriter w(out, rt.pool.size());
    w.begin_object();
    w.key("room");
    w.string(r.name());
    w.key("epoch");
    w.string(r.epoch());
    w.key("head");
    w.uint(head);
    w.key("oldest");
    w.uint(oldest);
    w.key("recovered");
    w.boolean(recovered);
    w.key("messages");
    w.begin_array();
    std::uint64_t n = 0;
    for (std::uint64_t seq = hist.next(first); seq <= head && n < limit; seq = hist.next(seq + 1), ++n) {
        const char* data = nullptr;
        std::uint32_t len = 0;
        if (hist.get(seq, data, len)) w.raw({data, len});
    }
    w.end_array();
    w.end_object();
    if (!w.ok()) return http_error(rt, ex, c, 503, "server_busy", "history too large for the response buffer");
    return respond(ex, c, 200, "application/json", out, w.size());
}

// The plain rooms, those the presented token may read when tokens are
// configured (then a token is required).
int serve_rooms(Runtime& rt, HttpExchange& ex, Conn& c) {
    const TokenSpec* who = nullptr;
    if (!rt.settings.tokens.empty()) {
        bool present = false;
        who = presented_token(rt, ex, present);
        if (who == nullptr) {
            return http_error(rt, ex, c, 401, "unauthorized", present ? "wrong token" : "a bearer token is required");
        }
    }
    char* out = lend_buffer(rt, c);
    if (out == nullptr) return busy(rt, ex, c);
    JsonWriter w(out, rt.pool.size());
    w.begin_object();
    w.key("rooms");
    const auto token_reads = [](const void* ctx, std::string_view room) {
        return token_allows(*static_cast<const TokenSpec*>(ctx), room, false);
    };
    rt.broker.write_room_list(w, who != nullptr ? +token_reads : nullptr, who, true);
    w.end_object();
    if (!w.ok()) return http_error(rt, ex, c, 503, "server_busy", "the room list does not fit the response buffer");
    return respond(ex, c, 200, "application/json", out, w.size());
}

int serve_health(Runtime& rt, HttpExchange& ex, Conn& c) {
    HttpScratch* s = scratch(rt, c);
    if (s == nullptr) return respond_unserved(ex, c);
    JsonWriter w(s->small, sizeof s->small);
    w.begin_object();
    w.key("status");
    w.string("ok");
    w.key("version");
    w.string(ROOST_VERSION);
    w.key("rooms");
    w.uint(rt.broker.room_count());
    w.key("sessions");
    w.uint(rt.broker.session_count());
    w.key("connections");
    w.uint(rt.connections);
    w.key("persistence");
    w.string(rt.journal == nullptr ? "memory" : rt.settings.fsync);
    if (rt.journal != nullptr) {
        w.key("journal");
        w.string(rt.journal->failing() ? "failing" : "ok"); // failing: the disk refuses syncs (posts get 507)
    }
    w.key("mqtt");
    w.string(MqttBridge::state_name(rt.mqtt.state()));
    w.end_object();
    return respond_small(ex, c, 200, *s, w.size());
}

int serve_asset(Runtime& rt, HttpExchange& ex, Conn& c, const char* path) {
    if (std::strcmp(path, "/ca.crt") == 0 && !rt.tls.ca_pem.empty()) {
        return respond(ex, c, 200, "application/x-x509-ca-cert", rt.tls.ca_pem.data(), rt.tls.ca_pem.size(),
                       "no-cache");
    }
    const Asset* a = find_asset(path);
    if (a == nullptr) return http_error(rt, ex, c, 404, "not_found", "no such path");
    // Precompressed when the client takes gzip; revalidated by ETag.
    char accept[256] = {}, inm[64] = {};
    (void)ex.header(HttpHeader::accept_encoding, accept, sizeof accept);
    (void)ex.header(HttpHeader::if_none_match, inm, sizeof inm);
    const bool not_modified = std::strcmp(inm, a->etag) == 0;
    const bool gz = std::strstr(accept, "gzip") != nullptr;
    const char* body = gz ? reinterpret_cast<const char*>(a->gzip) : reinterpret_cast<const char*>(a->data);
    const std::size_t size = not_modified ? 0 : gz ? a->gzip_size : a->size;
    ex.cancel_timer();
    c.status = not_modified ? 304 : 200;
    c.body = body;
    c.size = static_cast<std::uint32_t>(size);
    c.sent = 0;
    const HttpField fields[] = {
        {"cache-control:", "no-cache"}, {"etag:", a->etag}, {"vary:", "Accept-Encoding"}, {"content-encoding:", "gzip"}};
    if (!ex.send_headers(c.status, a->content_type, size, fields, gz && !not_modified ? 4 : 3)) {
        return 1;
    }
    if (c.head || size == 0) {
        c.body = nullptr; // HEAD, or 304: headers only (http_writeable ends it)
        c.size = 0;
    }
    ex.want_writable();
    return 0;
}

// A post's headers, checked before any of its body is read. Framing first:
// a body whose length is unknown or refused cannot be skipped, so those
// answers close the connection. With a known length, lws reads and drops the
// body of a refused post and the connection serves the next request. Only
// when every check passed does the body go to a lent buffer (c.posting).
int begin_post(Runtime& rt, HttpExchange& ex, Conn& c, std::string_view room) {
    char len_buf[32] = {};
    if (ex.has_header(HttpHeader::transfer_encoding) ||
        ex.header(HttpHeader::content_length, len_buf, sizeof len_buf) <= 0) {
        return error_then_close(rt, ex, c, 411, "length_required",
                                "Content-Length is required (chunked bodies are not taken)");
    }
    std::uint64_t declared = 0;
    if (!parse_seq(len_buf, declared)) {
        return error_then_close(rt, ex, c, 400, "bad_request", "Content-Length: one whole number");
    }
    if (declared > rt.settings.limits.max_body) {
        return error_then_close(rt, ex, c, 413, "too_large", "body larger than max_body");
    }
    if (declared == 0) {
        return http_error(rt, ex, c, 400, "bad_request", "empty body");
    }
    if (const char* why = foreign_browser_request(rt, ex)) {
        return http_error(rt, ex, c, 403, "forbidden", why);
    }
    char type[256] = {};
    (void)ex.header(HttpHeader::content_type, type, sizeof type);
    const BodyType bt = body_type(type);
    if (bt == BodyType::unsupported) {
        return http_error(rt, ex, c, 415, "unsupported_type", "send text/plain or application/json (UTF-8)");
    }
    const TokenSpec* who = nullptr;
    int rc = 0;
    if (!authorized(rt, ex, c, room, true, &who, rc)) return rc;
    // from: ?from=, else the token's name, else "device" (a JSON body's own
    // `from` wins later).
    char from[4096];
    const int fn = ex.url_arg("from=", from, sizeof from); // -2 (too long) reads as empty: refused
    const std::string_view f = fn != -1 ? std::string_view(from, fn > 0 ? static_cast<std::size_t>(fn) : 0)
                               : who != nullptr ? std::string_view(who->name)
                                                : std::string_view("device");
    if (!nick_valid(f)) return http_error(rt, ex, c, 400, "bad_request", "from: 1-24 of A-Z a-z 0-9 _ - .");
    // Idempotency-Key: the cid rules (1..max_cid printable ASCII).
    char key[kMaxCidBound + 2] = {};
    if (ex.has_header(HttpHeader::idempotency_key)) {
        const int got = ex.header(HttpHeader::idempotency_key, key, sizeof key);
        if (got < 0 || !printable_token(std::string_view(key, static_cast<std::size_t>(got)), rt.settings.limits.max_cid)) {
            return http_error(rt, ex, c, 400, "bad_request", "Idempotency-Key: 1..max_cid printable ASCII characters");
        }
    }
    if (!rt.limiter.take(c.addr, rt.clock.now_ms(), rt.settings.limits.addr_rate, rt.settings.limits.addr_burst)) {
        rt.counters.http_rate_limited++;
        return error_response(rt, ex, c, 429, "rate_limited", "slow down", "retry-after:", "1");
    }
    HttpScratch* s = scratch(rt, c);
    if (s == nullptr) return respond_unserved(ex, c);
    if (lend_buffer(rt, c) == nullptr) return busy(rt, ex, c);
    c.post_json = bt == BodyType::json;
    c.posting = true;
    c.body_len = 0;
    std::memcpy(s->room, room.data(), room.size());
    s->room[room.size()] = '\0';
    std::memcpy(s->from, f.data(), f.size());
    s->from[f.size()] = '\0';
    std::memcpy(s->cid, key, sizeof s->cid);
    return 0;
}

} // namespace

int http_request(Runtime& rt, HttpExchange& ex, Conn& c, const char* path) {
    rt.counters.http_requests++;
    c.kind = ConnKind::http;
    release_buf(rt, c);
    c.posting = false;
    c.status = 0;
    c.close_after = false;
    c.stream = 0;
    ex.peer(c.addr);
    const HttpMethod method = ex.method();
    c.head = method == HttpMethod::head;
    // The whole request (its body included) has handshake_timeout_s from
    // here; http_timer answers 408 when it runs out.
    ex.set_timer_s(rt.settings.handshake_timeout_s);
    if (rt.connections > rt.settings.max_connections) {
        return http_error(rt, ex, c, 503, "server_busy", "too many connections");
    }
    const std::string_view p(path);
    char room_buf[kAnyRoomNameMax + 1];
    std::string_view room, what;
    bool is_dm = false;
    if (p == "/api/rooms") {
        if (method != HttpMethod::get) return method_not_allowed(rt, ex, c, method, "GET");
        return serve_rooms(rt, ex, c);
    }
    if (split_room_path(p, room_buf, room, what, is_dm)) {
        const bool devices = what == "devices" || what.substr(0, 8) == "devices/";
        if (what != "messages" && what != "events" && !devices) {
            return http_error(rt, ex, c, 404, "not_found", "no such path");
        }
        if (is_dm) return http_error(rt, ex, c, 403, "forbidden", "direct-message rooms are not served over HTTP");
        if (room.empty()) return http_error(rt, ex, c, 400, "bad_request", "invalid room name");
        if (what == "messages" && method == HttpMethod::post) return begin_post(rt, ex, c, room);
        // Reads; the devices answers take HEAD too (their headers alone).
        if (method != HttpMethod::get && !(devices && method == HttpMethod::head)) {
            return method_not_allowed(rt, ex, c, method, devices ? "GET, HEAD" : what == "messages" ? "GET, POST" : "GET");
        }
        const TokenSpec* who = nullptr;
        int rc = 0;
        if (!authorized(rt, ex, c, room, false, &who, rc)) return rc;
        const std::uint32_t ri = rt.broker.room_index_of(room);
        if (ri == kNone) return http_error(rt, ex, c, 404, "no_such_room", "no such room");
        if (devices) return serve_devices(rt, ex, c, ri, what.size() > 8 ? what.substr(8) : std::string_view());
        return what == "messages" ? serve_history(rt, ex, c, ri) : begin_sse(rt, ex, c, ri);
    }
    if (p.substr(0, 5) == "/api/") return http_error(rt, ex, c, 404, "not_found", "no such path");
    if (method != HttpMethod::get && method != HttpMethod::head) return method_not_allowed(rt, ex, c, method, "GET, HEAD");
    if (p == "/healthz") return serve_health(rt, ex, c);
    if (p == "/metrics") return serve_metrics(rt, ex, c);
    if (p == "/ws") return http_error(rt, ex, c, 400, "bad_request", "/ws is a WebSocket endpoint");
    return serve_asset(rt, ex, c, path);
}

int http_body(Runtime& rt, HttpExchange& ex, Conn& c, const char* in, std::size_t len) {
    if (!c.posting || c.buf_slot == 0) return 0; // a refused post's body: dropped
    if (c.body_len + len > rt.settings.limits.max_body) { // lws holds it to Content-Length
        c.posting = false;
        release_buf(rt, c);
        return error_then_close(rt, ex, c, 413, "too_large", "body larger than max_body");
    }
    std::memcpy(rt.pool.data(c.buf_slot - 1) + c.body_len, in, len);
    c.body_len += static_cast<std::uint32_t>(len);
    return 0;
}

int http_body_done(Runtime& rt, HttpExchange& ex, Conn& c) {
    if (!c.posting || c.buf_slot == 0) return 0;
    c.posting = false;
    rt.counters.http_posts++;
    const char* body = rt.pool.data(c.buf_slot - 1);
    HttpScratch& s = rt.scratch.at(static_cast<int>(c.scratch_slot) - 1); // lent by begin_post
    std::string_view text, data, from(s.from), cid(s.cid);
    Command cmd;
    DecodeError err;
    if (c.post_json) {
        const Errc e = rt.post_decoder.decode_post(body, c.body_len, cmd, err);
        if (e != Errc::ok) {
            release_buf(rt, c);
            return http_error(rt, ex, c, static_cast<unsigned>(errc_http_status(e)), errc_code(e), err.message);
        }
        text = cmd.text;
        data = cmd.data_json;
        if (!cmd.nick.empty()) from = cmd.nick;
        if (!cmd.cid.empty()) cid = cmd.cid;
    } else {
        text = std::string_view(body, c.body_len);
        Errc e = Errc::ok;
        const char* why = "";
        if (!utf8_valid(text)) {
            e = Errc::bad_utf8, why = "body is not valid UTF-8";
        } else if (text.size() > rt.settings.limits.max_text) {
            e = Errc::text_too_long, why = "text longer than max_text bytes";
        } else if (text.find('\0') != std::string_view::npos) {
            e = Errc::bad_request, why = "text must not contain NUL";
        }
        if (e != Errc::ok) {
            release_buf(rt, c);
            return http_error(rt, ex, c, 400, errc_code(e), why);
        }
    }
    PostResult r;
    const Errc e = rt.broker.post(s.room, from, MsgKind::device, text, data, cid, r);
    if (e != Errc::ok) {
        release_buf(rt, c);
        // The device store's reason when it refused (a full table names its setting).
        return http_error(rt, ex, c, static_cast<unsigned>(errc_http_status(e)), errc_code(e),
                          r.why != nullptr ? r.why : "not stored");
    }
    JsonWriter w(s.small, sizeof s.small);
    w.begin_object();
    w.key("room");
    w.string(s.room);
    w.key("seq");
    w.uint(r.seq);
    w.key("epoch");
    w.string(r.epoch);
    w.key("ts");
    w.uint(r.ts);
    w.end_object();
    release_buf(rt, c);
    if (rt.journal != nullptr && rt.journal->must_sync_before_reply()) {
        // fsync = always: the answer waits in the scratch for the group
        // commit at the next WRITEABLE (every post of this pass shares it).
        c.held_status = r.duplicate ? 200 : 201;
        c.held_len = static_cast<std::uint32_t>(w.size());
        ex.want_writable();
        return 0;
    }
    return respond_small(ex, c, r.duplicate ? 200 : 201, s, w.size());
}

int http_timer(Runtime& rt, HttpExchange& ex, Conn& c) {
    if (c.kind != ConnKind::http || c.status != 0 || c.held_status != 0) return 0; // answered meanwhile
    // The body did not arrive in time: what is still to come cannot be
    // told apart from a next request.
    c.posting = false;
    release_buf(rt, c);
    return error_then_close(rt, ex, c, 408, "request_timeout", "the request did not arrive within handshake_timeout_s");
}

void http_closed(Runtime& rt, HttpExchange& ex, Conn& c) {
    release_buf(rt, c);
    release_scratch(rt, c);
    if (c.kind == ConnKind::sse) {
        auto& list = rt.sse_by_room[c.sse_room];
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (list[i] == ex.stream()) {
                list[i] = list.back();
                list.pop_back();
                break;
            }
        }
        c.kind = ConnKind::http;
    }
}

} // namespace roost
