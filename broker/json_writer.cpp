#include "broker/json_writer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace roost {

namespace {

std::uint64_t bit(int d) { return std::uint64_t{1} << d; }

// Writes v in decimal, right-aligned, into the end of tmp[20]; returns its start.
char* u64_digits(std::uint64_t v, char (&tmp)[20]) {
    char* p = tmp + sizeof tmp;
    do {
        *--p = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return p;
}

} // namespace

void JsonWriter::put(char c) {
    if (overflow_ || len_ >= cap_) {
        overflow_ = true;
        return;
    }
    buf_[len_++] = c;
}

void JsonWriter::put(const char* s, std::size_t n) {
    if (n == 0) {
        return; // an empty view may carry a null pointer (memcpy must not see it)
    }
    if (overflow_ || n > cap_ - len_) {
        overflow_ = true;
        return;
    }
    std::memcpy(buf_ + len_, s, n);
    len_ += n;
}

void JsonWriter::put_escaped(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    put('"');
    std::size_t run = 0; // start of the pending run of bytes that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(s.data() + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        std::size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            n = 6;
        }
        put(esc, n);
    }
    put(s.data() + run, s.size() - run);
    put('"');
}

// Places the comma before a value and checks that a value may stand here.
void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (depth_ == 0) {
        if (len_ != 0) invalid_ = true; // a second top-level value
        return;
    }
    if (is_object_ & bit(depth_)) invalid_ = true; // an object member needs a key first
    if (has_items_ & bit(depth_)) put(',');
    has_items_ |= bit(depth_);
}

void JsonWriter::open(char c) {
    before_value();
    if (depth_ + 1 > kMaxDepth) {
        invalid_ = true;
        return;
    }
    ++depth_;
    has_items_ &= ~bit(depth_);
    if (c == '{') {
        is_object_ |= bit(depth_);
    } else {
        is_object_ &= ~bit(depth_);
    }
    put(c);
}

void JsonWriter::close(char c) {
    const bool object = (is_object_ & bit(depth_)) != 0;
    if (depth_ == 0 || after_key_ || object != (c == '}')) {
        invalid_ = true;
        return;
    }
    --depth_;
    put(c);
}

void JsonWriter::key(std::string_view k) {
    if (depth_ == 0 || !(is_object_ & bit(depth_)) || after_key_) {
        invalid_ = true;
        return;
    }
    if (has_items_ & bit(depth_)) put(',');
    has_items_ |= bit(depth_);
    put_escaped(k);
    put(':');
    after_key_ = true;
}

void JsonWriter::string(std::string_view s) {
    before_value();
    put_escaped(s);
}

void JsonWriter::uint(std::uint64_t v) {
    before_value();
    char tmp[20];
    const char* p = u64_digits(v, tmp);
    put(p, static_cast<std::size_t>(tmp + sizeof tmp - p));
}

void JsonWriter::integer(std::int64_t v) {
    before_value();
    // The magnitude as unsigned, so INT64_MIN does not overflow.
    const std::uint64_t mag = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
    if (v < 0) put('-');
    char tmp[20];
    const char* p = u64_digits(mag, tmp);
    put(p, static_cast<std::size_t>(tmp + sizeof tmp - p));
}

void JsonWriter::boolean(bool b) {
    before_value();
    if (b) {
        put("true", 4);
    } else {
        put("false", 5);
    }
}

void JsonWriter::null() {
    before_value();
    put("null", 4);
}

void JsonWriter::number(double v) {
    if (!std::isfinite(v)) {
        invalid_ = true;
        return;
    }
    char tmp[32];
    int n = std::snprintf(tmp, sizeof tmp, "%.15g", v);
    if (std::strtod(tmp, nullptr) != v) n = std::snprintf(tmp, sizeof tmp, "%.17g", v);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof tmp) {
        invalid_ = true;
        return;
    }
    // A locale may print a decimal comma; JSON wants a point.
    for (int i = 0; i < n; ++i) {
        if (tmp[i] == ',') tmp[i] = '.';
    }
    before_value();
    put(tmp, static_cast<std::size_t>(n));
}

void JsonWriter::raw(std::string_view json) {
    before_value();
    put(json.data(), json.size());
}

void JsonWriter::reset() {
    len_ = 0;
    depth_ = 0;
    has_items_ = 0;
    is_object_ = 0;
    after_key_ = false;
    overflow_ = false;
    invalid_ = false;
}

} // namespace roost
