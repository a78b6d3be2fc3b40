// MqttBridge: Roost as a well-behaved client of an MQTT broker, so devices
// that speak MQTT post into rooms and several Roosts share rooms through one
// MQTT broker or cluster. It uses libwebsockets' own MQTT client role: the
// same event loop and the same mbedTLS as everything else (the choice and
// its measurements are in the README).
//
// Topics (PREFIX = mqtt_prefix):
//   PREFIX/ROOM               each message stored in a bridged room that this
//                             broker originated, published once as its `msg`
//                             JSON with "origin" (this broker's id) and
//                             "oepoch"; messages from other Roosts arrive
//                             here and are stored keeping their origin
//                             (Broker::bridge_receive drops our own and
//                             duplicates).
//   PREFIX/ROOM/device/NAME   a device's text or JSON readings: a
//                             kind:"device" message from NAME.
// What is published comes from the rooms' rings, one message at a time, in
// seq order; the cursor moves on only once the MQTT broker has it (QoS 1:
// PUBACK; QoS 0: written), so a link that drops loses nothing still held in
// the ring: it is published when the link returns (at least once; receivers
// drop duplicates by origin and seq). Reconnects back off from 0.5 s to 30 s
// with jitter.
#pragma once

#include "broker/decoder.h"

#include <cstdint>
#include <string>
#include <vector>

struct lws;
struct lws_context;
struct lws_vhost;
struct lws_protocols;

namespace roost {

class Broker;
struct Settings;

class MqttBridge {
public:
    // From the settings: false with `why` (the broker exits 2) for a URL or
    // room list it cannot use. `origin` is the client id (given or made).
    bool configure(const Settings& s, std::uint64_t random, std::string& why);
    bool enabled() const { return !host_.empty(); }
    bool tls() const { return tls_; }
    const std::string& origin() const { return client_id_; }

    // The lws protocol the bridge's client connection uses (on its own
    // vhost, which has the client TLS settings).
    static const lws_protocols* protocol();

    // Connects (first time); later reconnects schedule themselves. `d`
    // decodes what arrives (the HTTP API's decoder: both run on the loop).
    void start(Broker& b, Decoder& d, lws_context* ctx, lws_vhost* vh);
    // The part of start() that needs no connection: the broker and decoder
    // what arrives goes to, and the broker's side of the bridge enabled.
    // The fuzz target feeds messages through callback() after this alone.
    void attach(Broker& b, Decoder& d);
    // (Re)opens the client connection (the retry timer calls it).
    void reconnect();
    // Before the context goes: no more timers or callbacks reach the bridge.
    void stop();
    // A message was stored in room slot `room`: publish it if it is ours.
    void stored(std::uint32_t room);

    int callback(struct lws* wsi, int reason, void* in, std::size_t len);

    enum class State : std::uint8_t { off, connecting, subscribing, up, down };
    State state() const { return state_; }
    static const char* state_name(State s);
    struct Stats {
        std::uint64_t connects = 0, disconnects = 0, published = 0, received = 0;
        std::uint64_t dropped_json = 0, dropped_utf8 = 0, dropped_size = 0, dropped_topic = 0, dropped_other = 0;
    };
    const Stats& stats() const { return stats_; }

private:
    void retry();
    void receive(std::string_view topic, std::string_view payload);
    void drop(std::uint64_t& counter, const char* reason, std::string_view topic, std::string_view detail);

    Broker* broker_ = nullptr;
    lws_context* ctx_ = nullptr;
    lws_vhost* vhost_ = nullptr;
    struct lws* wsi_ = nullptr;  // the MQTT stream
    struct lws* nwsi_ = nullptr; // its network connection
    std::string host_, client_id_, user_, password_, prefix_;
    std::string address_; // host_'s address when Roost resolved it itself (local_names.h), else ""
    std::vector<std::string> rooms_;
    std::vector<std::string> topics_;
    int port_ = 0;
    bool tls_ = false;
    int qos_ = 1;
    State state_ = State::off;
    bool subscribe_pending_ = false;
    bool inflight_ = false;
    std::uint32_t inflight_room_ = 0;
    std::uint64_t inflight_seq_ = 0;
    std::uint32_t attempt_ = 0;
    std::uint64_t rng_ = 0;
    std::vector<char> rx_;          // one incoming payload being reassembled (max_frame bytes)
    std::size_t rx_len_ = 0;
    bool rx_over_ = false;
    std::uint64_t last_log_ms_ = 0; // drop reasons are logged at most once a second
    Decoder* decoder_ = nullptr;
    Stats stats_;
};

} // namespace roost
