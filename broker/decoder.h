// Decoder: protocol v1 client frames (docs/protocol.md) to Commands.
//
// decode() validates one WebSocket text frame completely and either fills a
// Command and returns Errc::ok, or returns the error the broker answers with
// `error {code, message, ref}`:
//   bad_utf8      the frame is not valid UTF-8, or a \u escape does not make
//                 valid UTF-8 (a lone or unpaired surrogate such as \ud800)
//   bad_json      not one JSON text (RFC 8259, strictly: no leading zeros,
//                 no raw control characters in strings, nothing after the value)
//   bad_request   JSON but not a valid command: not an object, no string
//                 `type`, a missing field, a field of the wrong type or out of
//                 range (the message names the field: "room: must be a
//                 string"), a string holding \u0000, a frame over max_frame
//   unknown_type  an object whose `type` is not a v1 client type
//   text_too_long text over max_text bytes
// Unknown fields are ignored; JSON null is a wrong type, not "absent".
// Integers (seq, backlog) are whole numbers 0..2^53-1. Room names are folded
// to lower case; a well-formed direct-message name ("@ann+bob") is accepted
// wherever a room is. An empty `data` object counts as no data.
//
// Memory: the constructor reserves everything once (a cJSON arena sized from
// max_frame, and the buffers for rooms, data and messages); decode() never
// touches the heap. Every view in the Command and the DecodeError points into
// the Decoder and stays valid until its next decode() call.
#pragma once

#include "broker/command.h"
#include "broker/error.h"
#include "broker/events.h"
#include "broker/json_arena.h"
#include "broker/limits.h"
#include "broker/names.h"

#include <cstddef>
#include <memory>
#include <string_view>

struct cJSON;

namespace roost {

struct DecodeError {
    const char* message = "";  // one short line for `error.message`; never null
    std::string_view ref;      // the frame's valid `cid`, else its `type` (when short
                               // printable ASCII), else empty
};

// A message from another Roost over the MQTT bridge: the `msg` event it
// published, with `origin` (its broker id) and `oepoch` (the epoch of its
// room's history) added. Views valid until the next decode.
struct BridgedMsg {
    std::string_view origin, oepoch, from, text, data_json;
    std::uint64_t seq = 0; // in the origin's room
    MsgKind kind = MsgKind::chat;
};

class Decoder {
public:
    // Bytes a Decoder for these limits reserves (its arena and data buffer).
    static std::uint64_t reserved_bytes(const CoreLimits& limits);

    static constexpr std::size_t kMaxValues = 1024; // JSON values in one frame (bad_request beyond)
    static constexpr int kMaxDepth = 16;            // nesting of one frame (bad_request beyond)
    static constexpr std::size_t kMaxEpoch = 16;    // bytes of since.epoch
    static constexpr std::size_t kMaxRefType = 32;  // bytes of a `type` echoed as ref

    explicit Decoder(const CoreLimits& limits);
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    [[nodiscard]] Errc decode(const char* frame, std::size_t len, Command& out, DecodeError& err);

    // The JSON body of `POST /api/rooms/{room}/messages`: {text?, data?,
    // from?, cid?} with the same rules as `say` (text may be empty with
    // data). Fills out.text, out.data_json, out.cid and out.nick (`from`,
    // empty when absent). Same errors as decode(), against max_body.
    [[nodiscard]] Errc decode_post(const char* body, std::size_t len, Command& out, DecodeError& err);

    // A bridged `msg` (see BridgedMsg): type "msg", origin (1..64
    // printable), oepoch (1..16 printable), seq (>= 1), from (a nick),
    // kind, and text/data with the rules of `say`; against max_frame.
    [[nodiscard]] Errc decode_bridged(const char* payload, std::size_t len, BridgedMsg& out, DecodeError& err);
    // A device's MQTT payload: a JSON object is its readings (`data`, the
    // rules of `say`'s data); anything else is its text (UTF-8, no NUL, at
    // most max_text bytes). Fills out.text or out.data_json.
    [[nodiscard]] Errc decode_device(const char* payload, std::size_t len, Command& out, DecodeError& err);

    const JsonArena& arena() const { return arena_; }

private:
    Errc begin(const char* frame, std::size_t len, std::size_t max, const char* too_large, Command& out,
               DecodeError& err, const cJSON*& root);
    Errc parse(const char* frame, std::size_t len, const cJSON*& root);
    Errc command(const cJSON* root, Command& out);
    Errc fail(Errc code, const char* field, const char* problem);
    Errc string_value(const cJSON* item, const char* field, bool required, std::string_view& out);
    Errc uint_value(const cJSON* item, const char* field, bool required, std::uint64_t& out);
    Errc room_field(const cJSON* obj, std::string_view& out);
    Errc nick_field(const cJSON* obj, const char* field, std::string_view& out);
    Errc secret_field(const cJSON* obj, const char* field, std::string_view& out);
    Errc since_field(const cJSON* obj, Command& out);
    Errc message_fields(const cJSON* obj, Command& out);
    Errc data_field(const cJSON* data, std::string_view& out);

    CoreLimits limits_;
    JsonArena arena_;
    std::size_t data_cap_;
    std::unique_ptr<char[]> data_buf_; // Command::data_json
    char room_[kAnyRoomNameMax];       // Command::room, folded
    char message_[128];                // DecodeError::message when it names a field
    DecodeError* err_ = nullptr;       // the current decode()'s error
};

} // namespace roost
