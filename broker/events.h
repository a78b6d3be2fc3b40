// Encoders for the server-to-client events of the contract, over a
// JsonWriter (no heap). Each writes one complete JSON object; the caller
// checks JsonWriter::ok() for overflow.
#pragma once

#include "broker/json_writer.h"

#include <cstdint>
#include <string_view>

namespace roost {

// Message kinds of the contract.
enum class MsgKind : std::uint8_t { chat, device, bot, system };

const char* msg_kind_name(MsgKind k);

// `origin`: the broker a bridged message came from (empty for our own); it
// is written right after "type" (see kRemotePrefix).
void encode_msg(JsonWriter& w, std::string_view room, std::uint64_t seq, std::uint64_t ts, std::string_view from,
                MsgKind kind, std::string_view text, std::string_view data_json, std::string_view cid,
                std::string_view origin = {});
// How every stored msg starts, and how one from elsewhere (the bridge) does.
constexpr std::string_view kMsgPrefix = R"({"type":"msg",)";
constexpr std::string_view kRemotePrefix = R"({"type":"msg","origin":)";
void encode_ack(JsonWriter& w, std::string_view cid, std::string_view room, std::uint64_t seq);
void encode_error(JsonWriter& w, std::string_view code, std::string_view message, std::string_view ref);
void encode_presence(JsonWriter& w, std::string_view room, std::string_view nick, bool join);
void encode_typing(JsonWriter& w, std::string_view room, std::string_view nick, bool on);
void encode_read(JsonWriter& w, std::string_view room, std::string_view nick, std::uint64_t seq);
void encode_left(JsonWriter& w, std::string_view room);
void encode_pong(JsonWriter& w);
void encode_bye(JsonWriter& w, std::uint16_t code, std::string_view reason);

} // namespace roost
