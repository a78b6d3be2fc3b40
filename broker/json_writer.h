// JsonWriter: builds one JSON text into a caller-provided buffer, with no
// heap allocation. Commas and colons are placed automatically.
//
// The writer never writes past `cap` bytes. When a value does not fit, it
// stops writing, overflow() turns true and stays true, and the output is
// unusable (truncated). Misuse is caught the same way through ok(): a NaN or
// an infinity (JSON has none), nesting deeper than kMaxDepth, or an end_*
// without its begin_* make ok() false. No NUL terminator is written; size()
// is the byte count and view() the text. The buffer stays the caller's.
//
// Strings are escaped as JSON requires: `"` and `\` with a backslash,
// \b \f \n \r \t by name, the other control characters below 0x20 as \u00XX.
// Everything else, UTF-8 included, passes through unchanged: the caller
// provides valid UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace roost {

class JsonWriter {
public:
    static constexpr int kMaxDepth = 32; // nested objects/arrays

    JsonWriter(char* buf, std::size_t cap) : buf_(buf), cap_(cap) {}

    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }

    // An object member's name; the next call writes its value.
    void key(std::string_view k);

    void string(std::string_view s);
    void uint(std::uint64_t v);
    void integer(std::int64_t v);
    void boolean(bool b);
    void null();
    // The shortest of %.15g / %.17g that reads back as exactly v.
    // NaN and infinities are refused: nothing is written and ok() turns false.
    void number(double v);
    // Already-encoded JSON (one complete value), copied as given.
    void raw(std::string_view json);

    // Forgets everything written; the same buffer is reused.
    void reset();

    bool overflow() const { return overflow_; }
    bool ok() const { return !overflow_ && !invalid_; }
    std::size_t size() const { return len_; }
    std::size_t capacity() const { return cap_; }
    std::string_view view() const { return std::string_view(buf_, len_); }

private:
    void open(char c);
    void close(char c);
    void before_value();
    void put(char c);
    void put(const char* s, std::size_t n);
    void put_escaped(std::string_view s);

    char* buf_;
    std::size_t cap_;
    std::size_t len_ = 0;
    int depth_ = 0;
    std::uint64_t has_items_ = 0;  // bit d: the container at depth d has a member already
    std::uint64_t is_object_ = 0;  // bit d: the container at depth d is an object
    bool after_key_ = false;       // a key was written; its value comes next
    bool overflow_ = false;
    bool invalid_ = false;
};

} // namespace roost
