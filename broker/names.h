// Names of the wire contract: rooms, nicks, direct-message rooms, data keys.
//
//   room      1..32 bytes of a-z 0-9 _ -, first a letter or digit; a request's
//             upper case is folded to lower case.
//   nick      1..24 bytes of A-Z a-z 0-9 _ - . ; shown as given, compared
//             case-insensitively. `data` keys follow the same rule.
//   DM room   "@" + the two nicks lower-cased, sorted bytewise, joined by "+"
//             ("@ann+bob"); at most 50 bytes.
//
// Everything here is pure: no allocation, no state. Functions that produce a
// name write it into a caller buffer of `cap` bytes (no NUL is added) and
// return a view of it, or an empty view when the input is not a valid name
// or the buffer is too small; an empty view is never a valid name.
#pragma once

#include <cstddef>
#include <string_view>

namespace roost {

inline constexpr std::size_t kRoomNameMax = 32;                       // bytes of a plain room name
inline constexpr std::size_t kNickMax = 24;                           // bytes of a nick or data key
inline constexpr std::size_t kDmRoomNameMax = 1 + kNickMax + 1 + kNickMax; // "@" a "+" b
inline constexpr std::size_t kAnyRoomNameMax = kDmRoomNameMax;        // a buffer that fits either kind

// True when `nick` is 1..24 bytes of A-Z a-z 0-9 _ - . (any case).
bool nick_valid(std::string_view nick);

// `data` keys follow the nick rule.
inline bool data_key_valid(std::string_view key) { return nick_valid(key); }

// Validates a nick and writes its lower-case form (the form nicks are
// compared and keyed by) into out. Empty when invalid or cap is too small.
std::string_view fold_nick(std::string_view nick, char* out, std::size_t cap);

// Case-insensitive (ASCII) equality, the comparison nicks use.
bool nick_equal(std::string_view a, std::string_view b);

// Case-insensitive (ASCII) order: < 0, 0 or > 0 as a sorts before, with or
// after b (device lists are sorted so).
int nick_compare(std::string_view a, std::string_view b);

// True when `name` is a plain room name in canonical (lower-case) form.
bool room_name_valid(std::string_view name);

// Validates a plain room name from a request, folding A-Z to lower case into
// out. Returns the folded view, or empty when invalid (a DM name is invalid
// here) or cap is too small.
std::string_view fold_room_name(std::string_view in, char* out, std::size_t cap);

// As fold_room_name(), but a direct-message room name is accepted too when,
// after folding, it is well-formed ("@" a "+" b, both valid nicks, a <= b
// bytewise). Use a buffer of kAnyRoomNameMax bytes.
std::string_view fold_any_room_name(std::string_view in, char* out, std::size_t cap);

// The DM room of nicks a and b: "@" + both lower-cased, sorted bytewise,
// joined by "+". Empty when a nick is invalid or cap < the result's length.
std::string_view dm_room_name(std::string_view a, std::string_view b, char* out, std::size_t cap);

// The two (lower-case) nicks of a canonical DM room name, as views into it.
struct DmNicks {
    std::string_view a; // bytewise <= b
    std::string_view b;
};

// A client message id (`cid`, the HTTP Idempotency-Key) and other tokens:
// 1..max bytes, each printable ASCII other than space.
bool printable_token(std::string_view s, std::size_t max);

// True when name starts with '@' (whether or not it is well-formed).
inline bool is_dm_room_name(std::string_view name) { return !name.empty() && name.front() == '@'; }

// Recognises a canonical DM room name (what dm_room_name() produces) and
// returns its nicks; false for anything else, upper case and unsorted
// pairs included.
bool parse_dm_room_name(std::string_view name, DmNicks& out);

} // namespace roost
