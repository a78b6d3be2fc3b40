// stored_msg_valid(): a cursor over the bytes of one `msg`, field by field
// in encode_msg()'s order (broker/events.cpp).
#include "broker/stored_msg.h"

#include "broker/names.h"
#include "broker/utf8.h"

#include <cstddef>

namespace roost {

namespace {

constexpr std::uint64_t kTwoPow53 = std::uint64_t{1} << 53;

class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}

    bool done() const { return i_ == s_.size(); }
    bool peek(std::string_view w) const { return s_.substr(i_, w.size()) == w; }
    bool lit(std::string_view w) {
        if (!peek(w)) return false;
        i_ += w.size();
        return true;
    }

    // A JSON string; `raw` its bytes between the quotes (escapes as written).
    bool string(std::string_view& raw) {
        if (!lit("\"")) return false;
        const std::size_t start = i_;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                raw = s_.substr(start, i_ - start);
                ++i_;
                return true;
            }
            if (c < 0x20) return false;
            if (c != '\\') {
                ++i_;
                continue;
            }
            if (++i_ >= s_.size()) return false;
            const char e = s_[i_++];
            if (e == 'u') {
                const long u = unit();
                if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF)) return false; // \u0000, a lone low surrogate
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (!lit("\\u")) return false;
                    const long lo = unit();
                    if (lo < 0xDC00 || lo > 0xDFFF) return false;
                }
            } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
                       e != 't') {
                return false;
            }
        }
        return false;
    }
    bool string() {
        std::string_view raw;
        return string(raw);
    }

    // A whole number below 2^53 without sign or leading zeros.
    bool uint(std::uint64_t& v) {
        const std::size_t start = i_;
        v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - start < 17) {
            v = v * 10 + static_cast<std::uint64_t>(s_[i_++] - '0');
        }
        const std::size_t n = i_ - start;
        return n > 0 && (n == 1 || s_[start] != '0') && v < kTwoPow53 && !digit();
    }

    // A number as RFC 8259 writes it.
    bool number() {
        lit("-");
        if (lit("0")) {
            if (digit()) return false;
        } else if (!digits()) {
            return false;
        }
        if (lit(".") && !digits()) return false;
        if (lit("e") || lit("E")) {
            if (!lit("+")) lit("-");
            if (!digits()) return false;
        }
        return true;
    }

    // {"KEY":V,...} with V a string, number or boolean; KEY like a nick.
    bool flat_object() {
        if (!lit("{")) return false;
        if (lit("}")) return true;
        do {
            std::string_view key;
            if (!string(key) || !nick_valid(key) || !lit(":")) return false;
            const bool ok = peek("\"") ? string() : (lit("true") || lit("false") || number());
            if (!ok) return false;
        } while (lit(","));
        return lit("}");
    }

private:
    bool digit() const { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }
    bool digits() {
        if (!digit()) return false;
        while (digit()) ++i_;
        return true;
    }
    long unit() {
        if (i_ + 4 > s_.size()) return -1;
        long v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_++];
            const int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (h < 0) return -1;
            v = v * 16 + h;
        }
        return v;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

} // namespace

bool stored_msg_valid(std::string_view json, std::string_view room, std::uint64_t seq) {
    if (!utf8_valid(json)) return false;
    Cursor c(json);
    std::string_view raw;
    std::uint64_t n = 0;
    if (!c.lit(R"({"type":"msg",)")) return false;
    if (c.lit(R"("origin":)") && !(c.string(raw) && !raw.empty() && c.lit(","))) return false;
    if (!c.lit(R"("room":")") || !c.lit(room) || !c.lit(R"(","seq":)") || !c.uint(n) || n != seq) return false;
    if (!c.lit(R"(,"ts":)") || !c.uint(n) || !c.lit(R"(,"from":)") || !c.string(raw) || !nick_valid(raw)) return false;
    if (!c.lit(R"(,"kind":")") ||
        !(c.lit("chat\"") || c.lit("device\"") || c.lit("bot\"") || c.lit("system\""))) {
        return false;
    }
    if (!c.lit(R"(,"text":)") || !c.string()) return false;
    if (c.lit(R"(,"data":)") && !c.flat_object()) return false;
    if (c.lit(R"(,"cid":)") && !(c.string(raw) && !raw.empty())) return false;
    return c.lit("}") && c.done();
}

} // namespace roost
