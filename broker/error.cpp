#include "broker/error.h"

namespace roost {

const char* errc_code(Errc e) {
    switch (e) {
    case Errc::ok: return "ok";
    case Errc::bad_json: return "bad_json";
    case Errc::bad_request: return "bad_request";
    case Errc::unknown_type: return "unknown_type";
    case Errc::not_joined: return "not_joined";
    case Errc::no_such_room: return "no_such_room";
    case Errc::too_many_rooms: return "too_many_rooms";
    case Errc::text_too_long: return "text_too_long";
    case Errc::bad_utf8: return "bad_utf8";
    case Errc::rate_limited: return "rate_limited";
    case Errc::unauthorized: return "unauthorized";
    case Errc::forbidden: return "forbidden";
    case Errc::nick_taken: return "nick_taken";
    case Errc::server_busy: return "server_busy";
    case Errc::disk_full: return "server_busy";
    }
    return "server_busy";
}

int errc_http_status(Errc e) {
    switch (e) {
    case Errc::ok: return 200;
    case Errc::unauthorized: return 401;
    case Errc::forbidden: return 403;
    case Errc::no_such_room: return 404;
    case Errc::rate_limited: return 429;
    case Errc::server_busy: return 503;
    case Errc::disk_full: return 507;
    case Errc::too_many_rooms: return 503;
    case Errc::nick_taken: return 409;
    case Errc::not_joined: return 403;
    default: return 400;
    }
}

} // namespace roost
