// The one error type of Roost. Every failure the core reports is an Errc;
// broker/error.cpp is the one place that turns it into a protocol `error`
// code, an HTTP status or a close code.
#pragma once

#include <cstdint>

namespace roost {

enum class Errc : std::uint8_t {
    ok = 0,
    bad_json,       // not JSON at all
    bad_request,    // JSON, but not a valid command (wrong shape, bad name, missing field)
    unknown_type,   // an object with a `type` we do not know
    not_joined,     // the session is not a member of that room
    no_such_room,   // reading a room that does not exist
    too_many_rooms, // the room table (or the session's room list) is full
    text_too_long,  // text over max_text bytes
    bad_utf8,       // invalid UTF-8, including overlongs, surrogates and \ud800-style escapes
    rate_limited,   // over the session's (or address's) rate
    unauthorized,   // missing or wrong token
    forbidden,      // not allowed (someone else's direct-message room, a token's room list)
    nick_taken,     // the nick is owned by another key
    server_busy,    // a fixed table is full (sessions, nicks, timers)
    disk_full,      // the journal could not write (no space, I/O error): nothing was stored
};

// The contract's code string: "bad_json", "nick_taken", ...; "ok" for ok.
// disk_full has no code of its own in the contract: it is "server_busy".
const char* errc_code(Errc e);

// The HTTP status that answers `e` on the HTTP API (400, 401, 403, 404, 429, 503, 507).
int errc_http_status(Errc e);

// WebSocket close codes the broker uses.
enum class CloseCode : std::uint16_t {
    shutdown = 1001,
    policy = 1008,         // auth failure, abuse (repeated errors, flooding)
    too_large = 1009,      // frame over max_frame
    slow_consumer = 4008,  // fell behind the ring; reconnect and recover with `since`
};

} // namespace roost
