// A protocol roost-bench speaks: how a connection says hello, joins the
// room, says a message, and how its answers and deliveries are read. The
// load driver (load_driver.h) owns the connections and the measurement; a
// dialect only encodes and parses, and tells the driver what it saw.
//
//   dialect          file                  spoken by
//   roost            dialect_roost.cpp     Roost, the Node `ws` peer, `roost-bench serve`
//   socketio         dialect_socketio.cpp  the Socket.IO 4 peer
//   mqtt             dialect_mqtt.cpp      mosquitto (MQTT 3.1.1, QoS 0)
//
// Both WebSocket dialects share the client framing in ws_dialect.h.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace roost_bench {

class LoadDriver;

enum class DialectKind { roost, socketio, mqtt };

class Dialect {
public:
    virtual ~Dialect() = default;
    // The transport is up (TCP, and TLS with --tls): sends the first bytes
    // (an upgrade request, or the hello itself).
    virtual void start(int id) = 0;
    // The hello, the join of the run's room, one message with `text`; the
    // driver keeps each connection's state and the counts.
    virtual void send_hello(int id) = 0;
    virtual void send_join(int id) = 0;
    virtual void send_say(int id, std::string_view text) = 0;
    // Reads what the server sent on `id`: returns the bytes consumed (whole
    // frames or packets; the rest comes again with the next read). May close
    // the connection; then every byte counts as consumed.
    virtual std::size_t parse(int id, const char* p, std::size_t n) = 0;
};

// Each dialect on `driver`'s connections (the driver picks one by --dialect).
std::unique_ptr<Dialect> make_roost_dialect(LoadDriver& driver);
std::unique_ptr<Dialect> make_socketio_dialect(LoadDriver& driver);
std::unique_ptr<Dialect> make_mqtt_dialect(LoadDriver& driver);

} // namespace roost_bench
