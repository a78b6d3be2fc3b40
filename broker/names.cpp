#include "broker/names.h"

namespace roost {

namespace {

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
char lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool nick_char(char c) { return is_lower_or_digit(c) || is_upper(c) || c == '_' || c == '-' || c == '.'; }

// Copies s lower-cased to out (which has room for it).
void copy_lower(std::string_view s, char* out) {
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = lower(s[i]);
}

// Bytewise comparison of a and b lower-cased, without copying.
int compare_folded(std::string_view a, std::string_view b) {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char x = static_cast<unsigned char>(lower(a[i]));
        const unsigned char y = static_cast<unsigned char>(lower(b[i]));
        if (x != y) return x < y ? -1 : 1;
    }
    if (a.size() == b.size()) return 0;
    return a.size() < b.size() ? -1 : 1;
}

} // namespace

bool nick_valid(std::string_view nick) {
    if (nick.empty() || nick.size() > kNickMax) return false;
    for (char c : nick) {
        if (!nick_char(c)) return false;
    }
    return true;
}

bool nick_equal(std::string_view a, std::string_view b) { return a.size() == b.size() && compare_folded(a, b) == 0; }

int nick_compare(std::string_view a, std::string_view b) { return compare_folded(a, b); }

std::string_view fold_nick(std::string_view nick, char* out, std::size_t cap) {
    if (!nick_valid(nick) || cap < nick.size()) return {};
    copy_lower(nick, out);
    return {out, nick.size()};
}

bool room_name_valid(std::string_view name) {
    if (name.empty() || name.size() > kRoomNameMax || !is_lower_or_digit(name.front())) return false;
    for (char c : name) {
        if (!is_lower_or_digit(c) && c != '_' && c != '-') return false;
    }
    return true;
}

std::string_view fold_room_name(std::string_view in, char* out, std::size_t cap) {
    if (in.size() > cap || in.size() > kRoomNameMax) return {};
    copy_lower(in, out);
    const std::string_view folded(out, in.size());
    return room_name_valid(folded) ? folded : std::string_view{};
}

std::string_view fold_any_room_name(std::string_view in, char* out, std::size_t cap) {
    if (!is_dm_room_name(in)) return fold_room_name(in, out, cap);
    if (in.size() > cap || in.size() > kDmRoomNameMax) return {};
    copy_lower(in, out);
    const std::string_view folded(out, in.size());
    DmNicks nicks;
    return parse_dm_room_name(folded, nicks) ? folded : std::string_view{};
}

std::string_view dm_room_name(std::string_view a, std::string_view b, char* out, std::size_t cap) {
    if (!nick_valid(a) || !nick_valid(b)) return {};
    const std::size_t len = 1 + a.size() + 1 + b.size();
    if (len > cap) return {};
    if (compare_folded(a, b) > 0) {
        const std::string_view t = a;
        a = b;
        b = t;
    }
    out[0] = '@';
    copy_lower(a, out + 1);
    out[1 + a.size()] = '+';
    copy_lower(b, out + 2 + a.size());
    return std::string_view(out, len);
}

bool parse_dm_room_name(std::string_view name, DmNicks& out) {
    if (!is_dm_room_name(name) || name.size() > kDmRoomNameMax) return false;
    const std::size_t plus = name.find('+');
    if (plus == std::string_view::npos) return false;
    const std::string_view a = name.substr(1, plus - 1);
    const std::string_view b = name.substr(plus + 1);
    if (!nick_valid(a) || !nick_valid(b)) return false; // also refuses a second '+'
    for (char c : name) {
        if (is_upper(c)) return false;
    }
    if (a.compare(b) > 0) return false;
    out.a = a;
    out.b = b;
    return true;
}

bool printable_token(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max) return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c > 0x7E) return false;
    }
    return true;
}

} // namespace roost
