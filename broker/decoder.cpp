#include "broker/decoder.h"

#include "broker/json_writer.h"
#include "broker/utf8.h"

#include <cjson/cJSON.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace roost {

namespace {

// ---- Lexical pre-scan ------------------------------------------------------
// cJSON is lenient where the contract is not (leading zeros, raw control
// characters, "\u00zz" read as NUL) and it forgets string lengths, so a
// \u0000 would silently cut a string short. One pass over the frame catches
// all of that before cJSON builds the tree, and finds the first escape that
// is not valid UTF-16 so that a parse failure there can be told apart
// (bad_utf8) from any other (bad_json). It also bounds the tree's size, so
// the arena is sized once for the worst frame.

enum class Problem { none, syntax, surrogate, too_deep, too_many };

struct Scan {
    Problem problem = Problem::none;
    std::size_t pos = 0;     // offset of the problem
    std::size_t values = 0;  // JSON values (and member names) seen
    bool nul = false;        // some string holds \u0000
};

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The value of 4 hex digits at s[i..], or -1.
long hex4(const unsigned char* s, std::size_t n, std::size_t i) {
    if (n - i < 4) return -1;
    long v = 0;
    for (std::size_t k = i; k < i + 4; ++k) {
        const unsigned char c = s[k];
        long d;
        if (is_digit(c)) {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

bool set_problem(Scan& sc, Problem p, std::size_t pos) {
    sc.problem = p;
    sc.pos = pos;
    return false;
}

// Checks the string literal opening at s[i]; on success i is past its quote.
bool scan_string(const unsigned char* s, std::size_t n, std::size_t& i, Scan& sc) {
    std::size_t j = i + 1;
    while (j < n) {
        const unsigned char c = s[j];
        if (c == '"') {
            i = j + 1;
            return true;
        }
        if (c < 0x20) return set_problem(sc, Problem::syntax, j);
        if (c != '\\') {
            ++j;
            continue;
        }
        if (j + 1 >= n) break;
        const unsigned char e = s[j + 1];
        if (e != 'u') {
            if (std::strchr("\"\\/bfnrt", e) == nullptr || e == 0) return set_problem(sc, Problem::syntax, j);
            j += 2;
            continue;
        }
        const long cp = hex4(s, n, j + 2);
        if (cp < 0) return set_problem(sc, Problem::syntax, j);
        if (cp == 0) sc.nul = true;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return set_problem(sc, Problem::surrogate, j);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            const bool escape = n - j >= 8 && s[j + 6] == '\\' && s[j + 7] == 'u';
            const long low = escape ? hex4(s, n, j + 8) : -1;
            if (escape && low < 0) return set_problem(sc, Problem::syntax, j + 6);
            if (low < 0xDC00 || low > 0xDFFF) return set_problem(sc, Problem::surrogate, j);
            j += 12;
        } else {
            j += 6;
        }
    }
    return set_problem(sc, Problem::syntax, n); // unterminated
}

// Checks the number starting at s[i] against the RFC 8259 grammar; on
// success i is past it.
bool scan_number(const unsigned char* s, std::size_t n, std::size_t& i, Scan& sc) {
    std::size_t j = i;
    auto digits = [&] {
        const std::size_t start = j;
        while (j < n && is_digit(s[j])) ++j;
        return j > start;
    };
    if (s[j] == '-') ++j;
    if (j < n && s[j] == '0') {
        ++j;
    } else if (!(j < n && s[j] >= '1' && s[j] <= '9' && digits())) {
        return set_problem(sc, Problem::syntax, j);
    }
    if (j < n && s[j] == '.') {
        ++j;
        if (!digits()) return set_problem(sc, Problem::syntax, j);
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        ++j;
        if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
        if (!digits()) return set_problem(sc, Problem::syntax, j);
    }
    if (j < n && (is_digit(s[j]) || std::strchr(".eE+-", s[j]) != nullptr)) return set_problem(sc, Problem::syntax, j);
    i = j;
    return true;
}

Scan scan_json(const char* frame, std::size_t n) {
    const auto* s = reinterpret_cast<const unsigned char*>(frame);
    Scan sc;
    int depth = 0;
    std::size_t i = 0;
    while (i < n && sc.problem == Problem::none) {
        const unsigned char c = s[i];
        if (c == '"' || c == '-' || is_digit(c) || c == '{' || c == '[' ||
            (c >= 'a' && c <= 'z' && (i == 0 || !(s[i - 1] >= 'a' && s[i - 1] <= 'z')))) {
            if (++sc.values > Decoder::kMaxValues) {
                set_problem(sc, Problem::too_many, i);
                break;
            }
        }
        if (c == '"') {
            scan_string(s, n, i, sc);
        } else if (c == '-' || is_digit(c)) {
            scan_number(s, n, i, sc);
        } else {
            if (c == '{' || c == '[') {
                if (++depth > Decoder::kMaxDepth) set_problem(sc, Problem::too_deep, i);
            } else if (c == '}' || c == ']') {
                if (depth > 0) --depth;
            } else if (c < 0x20 && !is_ws(c)) {
                set_problem(sc, Problem::syntax, i);
            }
            ++i;
        }
    }
    return sc;
}

// Every cJSON allocation of a frame within the scan's bounds: per value a
// node and up to two strings (member name and value) or a number's
// temporary copy, each rounded up to the arena's alignment, plus the string
// bytes themselves (at most the frame's length, twice for name + value).
std::size_t arena_capacity(const CoreLimits& limits) {
    const std::size_t a = JsonArena::kAlign;
    const std::size_t node = (sizeof(cJSON) + a - 1) / a * a;
    return (Decoder::kMaxValues + 1) * (node + 3 * a) + 2 * std::size_t{limits.max_frame} + 4096;
}

// Bytes the compact re-encoding of the largest valid `data` object can take.
std::size_t data_capacity(const CoreLimits& limits) {
    const std::size_t value = 2 + 6 * std::size_t{limits.max_data_string}; // every byte as \u00XX
    const std::size_t member = 1 + (2 + kNickMax + 1) + (value > 32 ? value : 32);
    return 2 + std::size_t{limits.max_data_keys} * member;
}

bool has_control(std::string_view s) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F) return true;
    }
    return false;
}

std::string_view str(const cJSON* item) { return std::string_view(item->valuestring); }

const cJSON* member(const cJSON* obj, const char* name) { return cJSON_GetObjectItemCaseSensitive(obj, name); }

struct TypeName {
    const char* name;
    CommandType type;
};

constexpr TypeName kTypes[] = {
    {"hello", CommandType::hello}, {"join", CommandType::join},     {"leave", CommandType::leave},
    {"say", CommandType::say},     {"dm", CommandType::dm},         {"typing", CommandType::typing},
    {"read", CommandType::read},   {"ping", CommandType::ping},
};

constexpr double kTwoPow53 = 9007199254740992.0;

} // namespace

std::uint64_t Decoder::reserved_bytes(const CoreLimits& limits) {
    return arena_capacity(limits) + data_capacity(limits);
}

Decoder::Decoder(const CoreLimits& limits)
    : limits_(limits), arena_(arena_capacity(limits)), data_cap_(data_capacity(limits)),
      data_buf_(new char[data_capacity(limits)]), room_(), message_() {}

Errc Decoder::fail(Errc code, const char* field, const char* problem) {
    std::snprintf(message_, sizeof message_, "%s: %s", field, problem);
    err_->message = message_;
    return code;
}

// Shared first steps: size, UTF-8, JSON into the arena.
Errc Decoder::begin(const char* frame, std::size_t len, std::size_t max, const char* too_large, Command& out,
                    DecodeError& err, const cJSON*& root) {
    out = Command{};
    err = DecodeError{};
    err_ = &err;
    arena_.reset(); // the previous decode's views die here
    if (len > max) {
        err.message = too_large;
        return Errc::bad_request;
    }
    if (!utf8_valid(frame, len)) {
        err.message = "not valid UTF-8";
        return Errc::bad_utf8;
    }
    return parse(frame, len, root);
}

Errc Decoder::decode(const char* frame, std::size_t len, Command& out, DecodeError& err) {
    const cJSON* root = nullptr;
    const Errc e = begin(frame, len, limits_.max_frame, "frame larger than max_frame", out, err, root);
    if (e != Errc::ok) return e;
    return command(root, out);
}

Errc Decoder::decode_post(const char* body, std::size_t len, Command& out, DecodeError& err) {
    const cJSON* root = nullptr;
    Errc e = begin(body, len, limits_.max_body, "body larger than max_body", out, err, root);
    if (e != Errc::ok) return e;
    out.type = CommandType::say;
    if (member(root, "from") != nullptr) e = nick_field(root, "from", out.nick);
    if (e == Errc::ok) e = message_fields(root, out);
    if (e != Errc::ok) out = Command{};
    return e;
}

Errc Decoder::decode_bridged(const char* payload, std::size_t len, BridgedMsg& out, DecodeError& err) {
    const cJSON* root = nullptr;
    Command cmd;
    out = BridgedMsg{};
    Errc e = begin(payload, len, limits_.max_frame, "payload larger than max_frame", cmd, err, root);
    if (e != Errc::ok) return e;
    const cJSON* type = member(root, "type");
    if (!cJSON_IsString(type) || str(type) != "msg") return fail(Errc::bad_request, "type", "must be \"msg\"");
    if ((e = string_value(member(root, "origin"), "origin", true, out.origin)) != Errc::ok) return e;
    if (!printable_token(out.origin, 64)) return fail(Errc::bad_request, "origin", "must be 1..64 printable ASCII");
    if ((e = string_value(member(root, "oepoch"), "oepoch", true, out.oepoch)) != Errc::ok) return e;
    if (!printable_token(out.oepoch, kMaxEpoch)) return fail(Errc::bad_request, "oepoch", "must be 1..16 printable ASCII");
    if ((e = uint_value(member(root, "seq"), "seq", true, out.seq)) != Errc::ok) return e;
    if (out.seq == 0) return fail(Errc::bad_request, "seq", "must be at least 1");
    if ((e = nick_field(root, "from", out.from)) != Errc::ok) return e;
    std::string_view kind;
    if ((e = string_value(member(root, "kind"), "kind", true, kind)) != Errc::ok) return e;
    bool known = false;
    for (MsgKind k : {MsgKind::chat, MsgKind::device, MsgKind::bot, MsgKind::system}) {
        if (kind == msg_kind_name(k)) out.kind = k, known = true;
    }
    if (!known) return fail(Errc::bad_request, "kind", "must be chat, device, bot or system");
    if ((e = message_fields(root, cmd)) != Errc::ok) return e;
    out.text = cmd.text;
    out.data_json = cmd.data_json;
    return Errc::ok;
}

Errc Decoder::decode_device(const char* payload, std::size_t len, Command& out, DecodeError& err) {
    std::size_t i = 0;
    while (i < len && is_ws(static_cast<unsigned char>(payload[i]))) ++i;
    if (i < len && payload[i] == '{') {
        const cJSON* root = nullptr;
        const Errc e = begin(payload, len, limits_.max_frame, "payload larger than max_frame", out, err, root);
        if (e != Errc::ok) return e;
        out.type = CommandType::say;
        return data_field(root, out.data_json);
    }
    out = Command{};
    err = DecodeError{};
    err_ = &err;
    out.type = CommandType::say;
    out.text = std::string_view(payload, len);
    if (len == 0) return fail(Errc::bad_request, "payload", "is empty");
    if (len > limits_.max_text) return fail(Errc::text_too_long, "payload", "longer than max_text bytes");
    if (!utf8_valid(payload, len)) return fail(Errc::bad_utf8, "payload", "is not valid UTF-8");
    if (out.text.find('\0') != std::string_view::npos) return fail(Errc::bad_request, "payload", "contains NUL");
    return Errc::ok;
}

// Builds the tree in the arena after the pre-scan; root stays valid until
// the next decode().
Errc Decoder::parse(const char* frame, std::size_t len, const cJSON*& root) {
    const Scan sc = scan_json(frame, len);
    switch (sc.problem) {
    case Problem::none:
    case Problem::surrogate: break;
    case Problem::syntax: err_->message = "not valid JSON"; return Errc::bad_json;
    case Problem::too_deep: err_->message = "JSON nested too deeply"; return Errc::bad_request;
    case Problem::too_many: err_->message = "too many JSON values"; return Errc::bad_request;
    }
    const char* end = nullptr;
    {
        JsonArenaScope scope(arena_);
        root = cJSON_ParseWithLengthOpts(frame, len, &end, 0);
    }
    if (sc.problem == Problem::surrogate && (root != nullptr || end == frame + sc.pos)) {
        // The parse stopped at that escape (not at an earlier syntax error).
        err_->message = "\\u escape is not valid UTF-16 (unpaired surrogate)";
        return Errc::bad_utf8;
    }
    if (root == nullptr && arena_.exhausted()) {
        err_->message = "frame too complex";
        return Errc::bad_request;
    }
    if (root == nullptr) {
        err_->message = "not valid JSON";
        return Errc::bad_json;
    }
    for (const char* p = end; p < frame + len; ++p) {
        if (!is_ws(static_cast<unsigned char>(*p))) {
            err_->message = "not valid JSON: data after the value";
            return Errc::bad_json;
        }
    }
    if (!cJSON_IsObject(root)) {
        err_->message = "frame must be a JSON object";
        return Errc::bad_request;
    }
    if (sc.nul) {
        err_->message = "strings must not contain \\u0000";
        return Errc::bad_request;
    }
    return Errc::ok;
}

Errc Decoder::command(const cJSON* root, Command& out) {
    const cJSON* cid = member(root, "cid");
    const cJSON* type = member(root, "type");
    if (cJSON_IsString(cid) && printable_token(str(cid), limits_.max_cid)) {
        err_->ref = str(cid);
    } else if (cJSON_IsString(type) && printable_token(str(type), kMaxRefType)) {
        err_->ref = str(type);
    }
    if (type == nullptr) return fail(Errc::bad_request, "type", "required");
    if (!cJSON_IsString(type)) return fail(Errc::bad_request, "type", "must be a string");
    const TypeName* known = nullptr;
    for (const TypeName& t : kTypes) {
        if (str(type) == t.name) known = &t;
    }
    if (known == nullptr) {
        err_->message = "unknown type";
        return Errc::unknown_type;
    }
    out.type = known->type;
    Errc e = Errc::ok;
    switch (out.type) {
    case CommandType::hello:
        e = nick_field(root, "nick", out.nick);
        if (e == Errc::ok) e = secret_field(root, "token", out.token);
        if (e == Errc::ok) e = secret_field(root, "key", out.key);
        break;
    case CommandType::join:
        e = room_field(root, out.room);
        if (e == Errc::ok) e = since_field(root, out);
        if (e == Errc::ok) {
            const cJSON* item = member(root, "backlog");
            std::uint64_t backlog = limits_.backlog;
            out.has_backlog = item != nullptr;
            e = uint_value(item, "backlog", false, backlog);
            out.backlog = static_cast<std::uint32_t>(backlog < limits_.ring_msgs ? backlog : limits_.ring_msgs);
        }
        break;
    case CommandType::leave: e = room_field(root, out.room); break;
    case CommandType::say:
        e = room_field(root, out.room);
        if (e == Errc::ok) e = message_fields(root, out);
        break;
    case CommandType::dm:
        e = nick_field(root, "to", out.to);
        if (e == Errc::ok) e = message_fields(root, out);
        break;
    case CommandType::typing: {
        e = room_field(root, out.room);
        const cJSON* on = member(root, "on");
        if (e == Errc::ok && on == nullptr) e = fail(Errc::bad_request, "on", "required");
        if (e == Errc::ok && !cJSON_IsBool(on)) e = fail(Errc::bad_request, "on", "must be true or false");
        if (e == Errc::ok) out.on = cJSON_IsTrue(on) != 0;
        break;
    }
    case CommandType::read: {
        e = room_field(root, out.room);
        if (e == Errc::ok) e = uint_value(member(root, "seq"), "seq", true, out.seq);
        break;
    }
    case CommandType::ping: break;
    }
    if (e != Errc::ok) out = Command{};
    return e;
}

// A string value; absent (item == nullptr) leaves out empty, an error when required.
Errc Decoder::string_value(const cJSON* item, const char* field, bool required, std::string_view& out) {
    if (item == nullptr) return required ? fail(Errc::bad_request, field, "required") : Errc::ok;
    if (!cJSON_IsString(item)) return fail(Errc::bad_request, field, "must be a string");
    out = str(item);
    // The frame was valid UTF-8 and the pre-scan vetted every escape; this
    // re-check of the decoded bytes guards that reasoning.
    if (!utf8_valid(out)) return fail(Errc::bad_utf8, field, "not valid UTF-8");
    return Errc::ok;
}

// A whole number 0..2^53-1 (anything at or above 2^53 may have been rounded
// on its way through a double); absent leaves out as it was.
Errc Decoder::uint_value(const cJSON* item, const char* field, bool required, std::uint64_t& out) {
    if (item == nullptr) return required ? fail(Errc::bad_request, field, "required") : Errc::ok;
    const double v = item->valuedouble;
    if (!cJSON_IsNumber(item) || !(v >= 0.0) || v >= kTwoPow53 || std::floor(v) != v) {
        return fail(Errc::bad_request, field, "must be a whole number from 0 to 2^53-1");
    }
    out = static_cast<std::uint64_t>(v);
    return Errc::ok;
}

Errc Decoder::room_field(const cJSON* obj, std::string_view& out) {
    std::string_view raw;
    const Errc e = string_value(member(obj, "room"), "room", true, raw);
    if (e != Errc::ok) return e;
    out = fold_any_room_name(raw, room_, sizeof room_);
    if (out.empty()) return fail(Errc::bad_request, "room", "not a valid room name (1..32 of a-z 0-9 _ -)");
    return Errc::ok;
}

Errc Decoder::nick_field(const cJSON* obj, const char* field, std::string_view& out) {
    const Errc e = string_value(member(obj, field), field, true, out);
    if (e != Errc::ok) return e;
    if (!nick_valid(out)) return fail(Errc::bad_request, field, "not a valid nick (1..24 of A-Z a-z 0-9 _ - .)");
    return Errc::ok;
}

// token / key: optional, 1..max_key bytes without control characters.
Errc Decoder::secret_field(const cJSON* obj, const char* field, std::string_view& out) {
    const cJSON* item = member(obj, field);
    const Errc e = string_value(item, field, false, out);
    if (e != Errc::ok) return e;
    if (item != nullptr && (out.empty() || out.size() > limits_.max_key || has_control(out))) {
        return fail(Errc::bad_request, field, "must be 1..max_key bytes without control characters");
    }
    return Errc::ok;
}

// since: {epoch: 0..16 printable ASCII, seq: whole number}, both required.
Errc Decoder::since_field(const cJSON* obj, Command& out) {
    const cJSON* since = member(obj, "since");
    if (since == nullptr) return Errc::ok;
    if (!cJSON_IsObject(since)) return fail(Errc::bad_request, "since", "must be an object {epoch, seq}");
    Errc e = string_value(member(since, "epoch"), "since.epoch", true, out.since_epoch);
    if (e != Errc::ok) return e;
    if (!out.since_epoch.empty() && !printable_token(out.since_epoch, kMaxEpoch)) {
        return fail(Errc::bad_request, "since.epoch", "must be at most 16 printable ASCII characters");
    }
    e = uint_value(member(since, "seq"), "since.seq", true, out.since_seq);
    if (e != Errc::ok) return e;
    out.has_since = true;
    return Errc::ok;
}

// say / dm: text, optional cid, optional data. Text may be empty or missing
// only when data is given.
Errc Decoder::message_fields(const cJSON* obj, Command& out) {
    const cJSON* cid = member(obj, "cid");
    if (cid != nullptr) {
        if (!cJSON_IsString(cid) || !printable_token(str(cid), limits_.max_cid)) {
            return fail(Errc::bad_request, "cid", "must be a string of 1..max_cid printable ASCII characters");
        }
        out.cid = str(cid);
    }
    const cJSON* data = member(obj, "data");
    if (data != nullptr) {
        const Errc e = data_field(data, out.data_json);
        if (e != Errc::ok) return e;
    }
    const Errc e = string_value(member(obj, "text"), "text", out.data_json.empty(), out.text);
    if (e != Errc::ok) return e;
    if (out.text.size() > limits_.max_text) return fail(Errc::text_too_long, "text", "longer than max_text bytes");
    if (out.text.empty() && out.data_json.empty()) return fail(Errc::bad_request, "text", "must not be empty");
    return Errc::ok;
}

// A flat object re-encoded compactly into data_buf_; `{}` leaves out empty.
Errc Decoder::data_field(const cJSON* data, std::string_view& out) {
    if (!cJSON_IsObject(data)) return fail(Errc::bad_request, "data", "must be an object");
    JsonWriter w(data_buf_.get(), data_cap_);
    w.begin_object();
    std::size_t keys = 0;
    for (const cJSON* m = data->child; m != nullptr; m = m->next) {
        if (++keys > limits_.max_data_keys) return fail(Errc::bad_request, "data", "more than max_data_keys keys");
        const std::string_view k(m->string);
        if (!data_key_valid(k)) return fail(Errc::bad_request, "data", "keys must be 1..24 of A-Z a-z 0-9 _ - .");
        for (const cJSON* prev = data->child; prev != m; prev = prev->next) {
            if (nick_equal(k, prev->string)) return fail(Errc::bad_request, "data", "duplicate key");
        }
        w.key(k);
        if (cJSON_IsNumber(m)) {
            if (!std::isfinite(m->valuedouble)) return fail(Errc::bad_request, "data", "numbers must be finite");
            w.number(m->valuedouble);
        } else if (cJSON_IsString(m)) {
            const std::string_view s = str(m);
            if (s.size() > limits_.max_data_string) {
                return fail(Errc::bad_request, "data", "strings must be at most max_data_string bytes");
            }
            if (!utf8_valid(s)) return fail(Errc::bad_utf8, "data", "strings must be valid UTF-8");
            w.string(s);
        } else if (cJSON_IsBool(m)) {
            w.boolean(cJSON_IsTrue(m) != 0);
        } else {
            return fail(Errc::bad_request, "data", "values must be numbers, strings or booleans");
        }
    }
    w.end_object();
    if (!w.ok()) return fail(Errc::bad_request, "data", "too large");
    if (keys > 0) out = w.view();
    return Errc::ok;
}

} // namespace roost
