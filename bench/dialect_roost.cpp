// Roost's own dialect: the JSON protocol (docs/protocol.md) over WebSocket
// at /ws, one object per event, {"type":"hello","nick":...}. The Node `ws`
// peer and `roost-bench serve` answer the same subset. Answers may come
// batched (an array of objects in one frame); deliveries are found in
// either form.
#include "load_driver.h"
#include "ws_dialect.h"

#include <cstdio>

namespace roost_bench {

namespace {

class RoostDialect final : public WsDialect {
public:
    using WsDialect::WsDialect;

private:
    const char* path() const override { return "/ws"; }

    // No handshake above WebSocket: the hello goes at once.
    void upgraded(int id) override { driver_.hello(id); }

    void event(int id, const char* name, const char* json) override {
        char buf[512];
        // {"type":"NAME", + the rest of json after its "{"
        const int n = std::snprintf(buf, sizeof buf, "{\"type\":\"%s\"%s%s", name, json[1] == '}' ? "" : ",", json + 1);
        ws_send(id, std::string_view(buf, static_cast<std::size_t>(n)));
    }

    void on_text(int id, std::string_view payload) override { on_events(id, payload); }
};

} // namespace

std::unique_ptr<Dialect> make_roost_dialect(LoadDriver& driver) { return std::make_unique<RoostDialect>(driver); }

} // namespace roost_bench
