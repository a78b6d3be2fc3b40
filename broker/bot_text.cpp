// The bots' text: the words, durations, clock times and numbers people type
// after a command, how numbers and local times are written back, a number
// read from a message's `data`, and the score tables of the games. Pure
// functions over their arguments (bots.h declares them); no Broker state.
#include "broker/bots.h"

#include "broker/commands.h"
#include "broker/names.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace roost {

std::string_view next_word(std::string_view& s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    const std::size_t sp = s.find(' ');
    const std::string_view w = s.substr(0, sp);
    s.remove_prefix(sp == std::string_view::npos ? s.size() : sp);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return w;
}

bool parse_duration(std::string_view s, std::uint64_t& ms) {
    std::uint64_t total = 0;
    if (s.empty()) return false;
    while (!s.empty()) {
        std::uint64_t v = 0;
        std::size_t digits = 0;
        while (!s.empty() && s.front() >= '0' && s.front() <= '9' && digits < 7) {
            v = v * 10 + static_cast<std::uint64_t>(s.front() - '0');
            s.remove_prefix(1);
            ++digits;
        }
        if (digits == 0 || s.empty()) return false;
        const char unit = s.front();
        s.remove_prefix(1);
        const std::uint64_t mul = unit == 's' ? 1000 : unit == 'm' ? 60000 : unit == 'h' ? 3600000 : unit == 'd' ? 86400000 : 0;
        if (mul == 0) return false;
        total += v * mul;
    }
    if (total == 0 || total > 30ull * 86400000) return false;
    ms = total;
    return true;
}

bool parse_clock(std::string_view s, std::uint32_t& minutes) {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() != colon + 3) return false;
    std::uint32_t h = 0, m = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == colon) continue;
        if (s[i] < '0' || s[i] > '9') return false;
        (i < colon ? h : m) = (i < colon ? h : m) * 10 + static_cast<std::uint32_t>(s[i] - '0');
    }
    if (h > 23 || m > 59) return false;
    minutes = h * 60 + m;
    return true;
}

bool parse_number(std::string_view s, double& v) {
    char buf[32];
    if (s.empty() || s.size() >= sizeof buf) return false;
    for (char ch : s) {
        if (!((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E')) return false;
    }
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    char* end = nullptr;
    v = std::strtod(buf, &end);
    return end == buf + s.size() && std::isfinite(v);
}

std::string_view format_number(double v, char (&out)[32]) {
    const int n = std::snprintf(out, sizeof out, "%.6g", v);
    return {out, n > 0 ? static_cast<std::size_t>(n) : 0};
}

namespace {

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm).
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

} // namespace

std::string_view format_local(std::uint64_t ms, std::uint64_t now_ms, std::int32_t offset_min, char (&out)[32]) {
    const std::int64_t local = static_cast<std::int64_t>(ms) + std::int64_t{offset_min} * 60000;
    const std::int64_t now_local = static_cast<std::int64_t>(now_ms) + std::int64_t{offset_min} * 60000;
    const std::int64_t day = local / 86400000, minute = (local % 86400000) / 60000;
    int n = 0;
    if (day == now_local / 86400000) {
        n = std::snprintf(out, sizeof out, "%02d:%02d", static_cast<int>(minute / 60), static_cast<int>(minute % 60));
    } else {
        int y = 0;
        unsigned m = 0, d = 0;
        civil_from_days(day, y, m, d);
        n = std::snprintf(out, sizeof out, "%04d-%02u-%02u %02d:%02d", y, m, d, static_cast<int>(minute / 60),
                          static_cast<int>(minute % 60));
    }
    return {out, n > 0 ? static_cast<std::size_t>(n) : 0};
}

bool data_number(std::string_view j, std::string_view key, double& v) {
    // A flat object as the decoder stores it: keys are nick-like (no escapes),
    // values numbers, strings or booleans.
    std::size_t i = 0;
    auto ws = [&] { while (i < j.size() && (j[i] == ' ' || j[i] == '\n' || j[i] == '\t' || j[i] == '\r')) ++i; };
    ws();
    if (i >= j.size() || j[i] != '{') return false;
    ++i;
    for (;;) {
        ws();
        if (i >= j.size() || j[i] != '"') return false;
        const std::size_t ks = ++i;
        while (i < j.size() && j[i] != '"') ++i;
        if (i >= j.size()) return false;
        const std::string_view k = j.substr(ks, i - ks);
        ++i;
        ws();
        if (i >= j.size() || j[i] != ':') return false;
        ++i;
        ws();
        const std::size_t vs = i;
        if (i < j.size() && j[i] == '"') {
            for (++i; i < j.size() && j[i] != '"'; ++i) {
                if (j[i] == '\\') ++i;
            }
            ++i;
        } else {
            while (i < j.size() && j[i] != ',' && j[i] != '}' && j[i] != ' ') ++i;
        }
        if (k == key) return parse_number(j.substr(vs, i - vs), v);
        ws();
        if (i >= j.size() || j[i] != ',') return false;
        ++i;
    }
}

void add_score(Score (&table)[kScoreRows], std::string_view nick, std::uint32_t points) {
    char a[kNickMax + 1], b[kNickMax + 1];
    const std::string_view me = fold_nick(nick, a, sizeof a);
    Score* low = nullptr;
    for (Score& s : table) {
        if (s.nick[0] != '\0' && fold_nick(s.nick, b, sizeof b) == me) {
            s.points += points;
            return;
        }
        if (low == nullptr || (low->nick[0] != '\0' && (s.nick[0] == '\0' || s.points < low->points))) low = &s;
    }
    if (low->nick[0] == '\0' || low->points < points) {
        copy_str(low->nick, nick);
        low->points = points;
    }
}

std::string_view scores_text(const Score (&table)[kScoreRows], char (&out)[256]) {
    const Score* order[kScoreRows];
    std::uint32_t n = 0;
    for (const Score& s : table) {
        if (s.nick[0] == '\0') continue;
        std::uint32_t k = n++;
        while (k > 0 && order[k - 1]->points < s.points) {
            order[k] = order[k - 1];
            --k;
        }
        order[k] = &s;
    }
    TextOut<256> t;
    for (std::uint32_t i = 0; i < n; ++i) t << (i ? ", " : "") << order[i]->nick << " " << std::uint64_t{order[i]->points};
    if (n == 0) t << "none yet";
    std::memcpy(out, t.buf, t.n);
    return {out, t.n};
}

} // namespace roost
