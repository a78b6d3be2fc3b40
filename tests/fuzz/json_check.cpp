// The strict JSON checker (json_check.h): a recursive descent over the
// bytes, no allocation.
#include "tests/fuzz/json_check.h"

#include "broker/utf8.h"

#include <cjson/cJSON.h>

#include <cstddef>

namespace roost::fuzz {

namespace {

constexpr int kMaxDepth = 64;

class Checker {
public:
    explicit Checker(std::string_view t) : t_(t) {}

    bool document() {
        space();
        if (!value(0)) return false;
        space();
        return i_ == t_.size();
    }

private:
    bool at(char c) const { return i_ < t_.size() && t_[i_] == c; }
    bool eat(char c) {
        if (!at(c)) return false;
        ++i_;
        return true;
    }
    void space() {
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
    }
    bool literal(std::string_view w) {
        if (t_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    bool digit() const { return i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9'; }
    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    // Four hex digits after \u: the code unit, or -1.
    long unit() {
        if (i_ + 4 > t_.size()) return -1;
        long v = 0;
        for (int k = 0; k < 4; ++k) {
            const int h = hex(t_[i_ + static_cast<std::size_t>(k)]);
            if (h < 0) return -1;
            v = v * 16 + h;
        }
        i_ += 4;
        return v;
    }
    bool string() {
        if (!eat('"')) return false;
        while (i_ < t_.size()) {
            const auto c = static_cast<unsigned char>(t_[i_]);
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c < 0x20) return false;
            if (c != '\\') {
                ++i_;
                continue;
            }
            ++i_;
            if (i_ >= t_.size()) return false;
            const char e = t_[i_++];
            if (e == 'u') {
                const long u = unit();
                if (u < 0) return false;
                if (u >= 0xDC00 && u <= 0xDFFF) return false; // a low surrogate alone
                if (u >= 0xD800 && u <= 0xDBFF) {             // a high one needs its low one
                    if (!literal("\\u")) return false;
                    const long lo = unit();
                    if (lo < 0xDC00 || lo > 0xDFFF) return false;
                }
            } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
                return false;
            }
        }
        return false;
    }
    bool number() {
        eat('-');
        if (eat('0')) {
            if (digit()) return false;
        } else {
            if (!digit()) return false;
            while (digit()) ++i_;
        }
        if (eat('.')) {
            if (!digit()) return false;
            while (digit()) ++i_;
        }
        if (eat('e') || eat('E')) {
            if (!eat('+')) eat('-');
            if (!digit()) return false;
            while (digit()) ++i_;
        }
        return true;
    }
    bool value(int depth) {
        if (depth > kMaxDepth || i_ >= t_.size()) return false;
        const char c = t_[i_];
        if (c == '{') {
            ++i_;
            space();
            if (eat('}')) return true;
            while (true) {
                space();
                if (!string()) return false;
                space();
                if (!eat(':')) return false;
                space();
                if (!value(depth + 1)) return false;
                space();
                if (eat('}')) return true;
                if (!eat(',')) return false;
            }
        }
        if (c == '[') {
            ++i_;
            space();
            if (eat(']')) return true;
            while (true) {
                space();
                if (!value(depth + 1)) return false;
                space();
                if (eat(']')) return true;
                if (!eat(',')) return false;
            }
        }
        if (c == '"') return string();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        return number();
    }

    std::string_view t_;
    std::size_t i_ = 0;
};

} // namespace

bool json_valid(std::string_view text) { return utf8_valid(text) && Checker(text).document(); }

bool json_object(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    return i < text.size() && text[i] == '{' && json_valid(text);
}

bool json_error_shape(std::string_view text) {
    if (!json_object(text)) return false;
    cJSON* root = cJSON_ParseWithLength(text.data(), text.size());
    const cJSON* err = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON* code = cJSON_GetObjectItemCaseSensitive(err, "code");
    const cJSON* message = cJSON_GetObjectItemCaseSensitive(err, "message");
    const bool ok = cJSON_GetArraySize(root) == 1 && cJSON_IsObject(err) && cJSON_GetArraySize(err) == 2 &&
                    cJSON_IsString(code) && code->valuestring[0] != '\0' && cJSON_IsString(message);
    cJSON_Delete(root);
    return ok;
}

} // namespace roost::fuzz
