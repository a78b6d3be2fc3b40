// The WebSocket client both WebSocket dialects share: the upgrade request,
// masked client frames (RFC 6455; payloads up to 4,096 bytes, enough for
// --size's 4,000), the frame parser (ping answered with pong, a close frame
// closes), and the chat events as JSON objects: hello, join and say sent,
// and the answers read back (welcome, joined, an error, and deliveries,
// whose "text" starts with the send stamp "T<us> ").
#pragma once

#include "dialect.h"

#include <cstdint>
#include <string_view>

namespace roost_bench {

class WsDialect : public Dialect {
public:
    explicit WsDialect(LoadDriver& driver);
    void start(int id) override;
    void send_hello(int id) override;
    void send_join(int id) override;
    void send_say(int id, std::string_view text) override;
    std::size_t parse(int id, const char* p, std::size_t n) override;

protected:
    // The upgrade request's path.
    virtual const char* path() const = 0;
    // The server answered 101 Switching Protocols.
    virtual void upgraded(int id) = 0;
    // Sends the event `name` with the JSON object `json` (its fields).
    virtual void event(int id, const char* name, const char* json) = 0;
    // One text (or binary) frame from the server.
    virtual void on_text(int id, std::string_view payload) = 0;

    // A masked client frame (text unless `opcode` says otherwise).
    void ws_send(int id, std::string_view payload, std::uint8_t opcode = 1);
    // The events in `p` (one object, a batch of them, or a wrapped event):
    // moves the connection on at welcome and joined, closes it at an error
    // during hello or join, and counts every delivery it carries.
    void on_events(int id, std::string_view p);

    LoadDriver& driver_;

private:
    char key_[32] = {};
    char room_[16] = {};
    std::uint8_t mask_[4] = {};
};

} // namespace roost_bench
