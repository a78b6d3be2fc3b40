#include "broker/events.h"

#include "broker/reserve.h"

namespace roost {

const char* msg_kind_name(MsgKind k) {
    switch (k) {
    case MsgKind::chat: return "chat";
    case MsgKind::device: return "device";
    case MsgKind::bot: return "bot";
    case MsgKind::system: return "system";
    }
    return "system";
}

namespace {
void type(JsonWriter& w, std::string_view t) {
    w.begin_object();
    w.key("type");
    w.string(t);
}
void field(JsonWriter& w, std::string_view k, std::string_view v) {
    w.key(k);
    w.string(v);
}
void field(JsonWriter& w, std::string_view k, std::uint64_t v) {
    w.key(k);
    w.uint(v);
}
} // namespace

void encode_msg(JsonWriter& w, std::string_view room, std::uint64_t seq, std::uint64_t ts, std::string_view from,
                MsgKind kind, std::string_view text, std::string_view data_json, std::string_view cid,
                std::string_view origin) {
    type(w, "msg");
    if (!origin.empty()) {
        field(w, "origin", origin); // right after type: a remote message is told by its prefix
    }
    field(w, "room", room);
    field(w, "seq", seq);
    field(w, "ts", ts);
    field(w, "from", from);
    field(w, "kind", msg_kind_name(kind));
    field(w, "text", text);
    if (!data_json.empty()) {
        w.key("data");
        w.raw(data_json);
    }
    if (!cid.empty()) {
        field(w, "cid", cid);
    }
    w.end_object();
}

void encode_ack(JsonWriter& w, std::string_view cid, std::string_view room, std::uint64_t seq) {
    type(w, "ack");
    if (!cid.empty()) {
        field(w, "cid", cid);
    }
    field(w, "room", room);
    field(w, "seq", seq);
    w.end_object();
}

void encode_error(JsonWriter& w, std::string_view code, std::string_view message, std::string_view ref) {
    type(w, "error");
    field(w, "code", code);
    // Messages are the core's own text; one longer than kMaxErrorMessage is
    // cut (at a character boundary) so that an answer always fits the room
    // kept for it (reply_reserve_bytes).
    if (message.size() > kMaxErrorMessage) {
        std::size_t n = kMaxErrorMessage;
        while (n > 0 && (static_cast<unsigned char>(message[n]) & 0xC0) == 0x80) --n;
        message = message.substr(0, n);
    }
    field(w, "message", message);
    if (!ref.empty()) {
        field(w, "ref", ref);
    }
    w.end_object();
}

void encode_presence(JsonWriter& w, std::string_view room, std::string_view nick, bool join) {
    type(w, "presence");
    field(w, "room", room);
    field(w, "nick", nick);
    field(w, "state", join ? "join" : "leave");
    w.end_object();
}

void encode_typing(JsonWriter& w, std::string_view room, std::string_view nick, bool on) {
    type(w, "typing");
    field(w, "room", room);
    field(w, "nick", nick);
    w.key("on");
    w.boolean(on);
    w.end_object();
}

void encode_read(JsonWriter& w, std::string_view room, std::string_view nick, std::uint64_t seq) {
    type(w, "read");
    field(w, "room", room);
    field(w, "nick", nick);
    field(w, "seq", seq);
    w.end_object();
}

void encode_left(JsonWriter& w, std::string_view room) {
    type(w, "left");
    field(w, "room", room);
    w.end_object();
}

void encode_pong(JsonWriter& w) {
    type(w, "pong");
    w.end_object();
}

void encode_bye(JsonWriter& w, std::uint16_t code, std::string_view reason) {
    type(w, "bye");
    field(w, "code", std::uint64_t{code});
    field(w, "reason", reason);
    w.end_object();
}

} // namespace roost
