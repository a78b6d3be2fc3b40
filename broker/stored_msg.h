// What a stored message must look like when it comes back from outside the
// broker's memory (the journal at start-up): exactly a `msg` event as
// encode_msg() writes it, so that history, joins and SSE can keep serving
// ring entries verbatim. A record whose checksum holds may still be one no
// broker wrote (a hostile or hand-edited file, a bug elsewhere); it is
// refused, never repaired.
#pragma once

#include <cstdint>
#include <string_view>

namespace roost {

// True when `json` is
//   {"type":"msg"[,"origin":S],"room":ROOM,"seq":SEQ,"ts":N,"from":NICK,
//    "kind":K,"text":S[,"data":{KEY:V,...}][,"cid":S]}
// with no whitespace (encode_msg's compact form), `room` and `seq` those
// given, NICK a nick (names.h), K chat|device|bot|system, each S a strict
// JSON string (valid UTF-8, escapes that make valid UTF-8, no \u0000), data
// flat (strings, numbers, booleans), numbers as RFC 8259 writes them and
// integers below 2^53. No allocation.
[[nodiscard]] bool stored_msg_valid(std::string_view json, std::string_view room, std::uint64_t seq);

} // namespace roost
