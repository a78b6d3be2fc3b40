// Socket.IO 4 (Engine.IO v4, Socket.IO v5 packets) over WebSocket only, as
// bench/peers/README.md documents it: after the upgrade the server's
// Engine.IO open ("0{...}") is answered with a Socket.IO connect ("40"),
// whose answer ("40{...}") lets the hello go; events travel as
// 42["NAME",{...}] carrying the same objects as Roost's dialect; the
// Engine.IO ping ("2") is answered with a pong ("3").
#include "load_driver.h"
#include "ws_dialect.h"

#include <cstdio>

namespace roost_bench {

namespace {

class SocketIoDialect final : public WsDialect {
public:
    using WsDialect::WsDialect;

private:
    const char* path() const override { return "/socket.io/?EIO=4&transport=websocket"; }

    void upgraded(int id) override { driver_.conn(id).state = State::engine_open; }

    void event(int id, const char* name, const char* json) override {
        char buf[512];
        const int n = std::snprintf(buf, sizeof buf, "42[\"%s\",%s]", name, json);
        ws_send(id, std::string_view(buf, static_cast<std::size_t>(n)));
    }

    void on_text(int id, std::string_view p) override {
        const Conn& c = driver_.conn(id);
        if (p == "2") {
            ws_send(id, "3");
            return;
        }
        if (c.state == State::engine_open && !p.empty() && p[0] == '0') {
            ws_send(id, "40");
            return;
        }
        if (p.substr(0, 2) == "40" && c.state == State::engine_open) {
            driver_.hello(id);
            return;
        }
        on_events(id, p);
    }
};

} // namespace

std::unique_ptr<Dialect> make_socketio_dialect(LoadDriver& driver) {
    return std::make_unique<SocketIoDialect>(driver);
}

} // namespace roost_bench
