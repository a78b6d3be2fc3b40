#include "platform/mqtt_bridge.h"

#include "broker/broker.h"
#include "broker/names.h"
#include "platform/settings.h"
#include "platform/local_names.h"
#include "platform/os.h"
#include "platform/runtime.h"

#include <libwebsockets.h>

#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace roost {

namespace {

MqttBridge* g_bridge = nullptr; // the one bridge, for the lws callback and the reconnect timer
lws_sorted_usec_list_t g_retry_sul;

// If the link is silent this long, lws pings (PINGREQ); without an answer
// it hangs up and the bridge reconnects.
const lws_retry_bo_t kIdle = {nullptr, 0, 0, 20, 30, 0};

int bridge_callback(struct lws* wsi, enum lws_callback_reasons reason, void*, void* in, size_t len) {
    return g_bridge != nullptr ? g_bridge->callback(wsi, static_cast<int>(reason), in, len) : 0;
}

const lws_protocols kMqttProtocols[] = {
    {"roost-mqtt", bridge_callback, 0, 0, 0, nullptr, 0},
    LWS_PROTOCOL_LIST_TERM,
};

void on_retry(lws_sorted_usec_list_t*) {
    if (g_bridge != nullptr) g_bridge->reconnect();
}

bool client_id_valid(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char ch : id) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                        ch == '_' || ch == '.';
        if (!ok) return false;
    }
    return true;
}

} // namespace

const lws_protocols* MqttBridge::protocol() { return kMqttProtocols; }

const char* MqttBridge::state_name(State s) {
    switch (s) {
    case State::off: return "off";
    case State::connecting: return "connecting";
    case State::subscribing: return "subscribing";
    case State::up: return "connected";
    case State::down: return "down";
    }
    return "off";
}

bool MqttBridge::configure(const Settings& s, std::uint64_t random, std::string& why) {
    rng_ = random | 1;
    if (s.mqtt_url.empty()) return true;
    std::string_view url = s.mqtt_url;
    if (url.rfind("mqtts://", 0) == 0) {
        tls_ = true;
        url.remove_prefix(8);
    } else if (url.rfind("mqtt://", 0) == 0) {
        url.remove_prefix(7);
    } else {
        why = "mqtt: '" + s.mqtt_url + "' is not mqtt://host[:port] or mqtts://host[:port]";
        return false;
    }
    port_ = tls_ ? 8883 : 1883;
    const std::size_t colon = url.rfind(':');
    std::string_view host = url;
    if (colon != std::string_view::npos && url.find(']') == std::string_view::npos) {
        host = url.substr(0, colon);
        const std::string_view p = url.substr(colon + 1);
        int v = 0;
        for (char ch : p) v = (ch >= '0' && ch <= '9' && v < 100000) ? v * 10 + (ch - '0') : 1 << 20;
        if (p.empty() || v < 1 || v > 65535) {
            why = "mqtt: '" + std::string(p) + "' is not a port (1 to 65535)";
            return false;
        }
        port_ = v;
    }
    if (host.empty() || host.find('/') != std::string_view::npos) {
        why = "mqtt: no host in '" + s.mqtt_url + "'";
        return false;
    }
    if (tls_ && s.mqtt_ca.empty()) {
        why = "mqtt: mqtts:// needs mqtt_ca, the CA certificate that signs the MQTT broker's certificate";
        return false;
    }
    host_.assign(host);
    client_id_ = s.mqtt_client_id;
    if (client_id_.empty()) {
        static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
        client_id_ = "roost-";
        std::uint64_t v = random;
        for (int i = 0; i < 8; ++i, v >>= 5) client_id_ += kAlphabet[v & 31];
    }
    if (!client_id_valid(client_id_)) {
        why = "mqtt_client_id: 1 to 64 of A-Z a-z 0-9 - _ .";
        return false;
    }
    prefix_ = s.mqtt_prefix;
    if (prefix_.empty() || prefix_.find_first_of("+#") != std::string::npos || prefix_.back() == '/' ||
        prefix_.size() > 64) {
        why = "mqtt_prefix: a topic of 1 to 64 characters without + # or a trailing /";
        return false;
    }
    if (s.mqtt_rooms != "*") {
        std::string_view list = s.mqtt_rooms;
        while (!list.empty()) {
            const std::size_t comma = list.find(',');
            const std::string_view item = list.substr(0, comma);
            char buf[kRoomNameMax + 1];
            const std::string_view room = fold_room_name(item, buf, sizeof buf);
            if (room.empty()) {
                why = "mqtt_rooms: '" + std::string(item) + "' is not a room name (or use *)";
                return false;
            }
            rooms_.emplace_back(room);
            list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
        }
    }
    user_ = s.mqtt_user;
    password_ = s.mqtt_password;
    qos_ = static_cast<int>(s.mqtt_qos);
    if (rooms_.empty()) {
        topics_ = {prefix_ + "/+", prefix_ + "/+/device/+"};
    } else {
        for (const std::string& r : rooms_) {
            topics_.push_back(prefix_ + "/" + r);
            topics_.push_back(prefix_ + "/" + r + "/device/+");
        }
    }
    rx_.assign(s.limits.max_frame + 1, '\0');
    return true;
}

void MqttBridge::attach(Broker& b, Decoder& d) {
    broker_ = &b;
    decoder_ = &d;
    broker_->bridge_enable(client_id_, rooms_);
}

void MqttBridge::start(Broker& b, Decoder& d, lws_context* ctx, lws_vhost* vh) {
    attach(b, d);
    ctx_ = ctx;
    vhost_ = vh;
    g_bridge = this;
    std::printf("roost: mqtt: bridging %s to %s://%s:%d as %s, topics %s/..., QoS %d\n",
                rooms_.empty() ? "every room" : "the rooms listed", tls_ ? "mqtts" : "mqtt", host_.c_str(), port_,
                client_id_.c_str(), prefix_.c_str(), qos_);
    reconnect();
}

void MqttBridge::stop() {
    lws_sul_cancel(&g_retry_sul);
    if (wsi_ != nullptr && wsi_ != nwsi_) {
        // The MQTT stream goes first: lws 4.3 does not free it with its
        // network connection.
        lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
    wsi_ = nwsi_ = nullptr;
    g_bridge = nullptr;
}

void MqttBridge::reconnect() {
    static lws_mqtt_client_connect_param_t cp;
    cp = lws_mqtt_client_connect_param_t{};
    cp.client_id = client_id_.c_str();
    cp.keep_alive = 60;
    cp.clean_start = qos_ == 0 ? 1 : 0; // QoS 1: the MQTT broker keeps what arrives while we are away
    cp.client_id_nofree = 1;
    cp.username_nofree = 1;
    cp.password_nofree = 1;
    cp.username = user_.empty() ? nullptr : user_.c_str();
    cp.password = password_.empty() ? nullptr : password_.c_str();
    lws_client_connect_info i{};
    i.context = ctx_;
    i.vhost = vhost_;
    i.mqtt_cp = &cp;
    // A static build asks avahi-daemon for a NAME.local broker (local_names.h).
    address_ = resolve_local_name(host_);
    i.address = address_.empty() ? host_.c_str() : address_.c_str();
    i.host = host_.c_str();
    i.port = port_;
    i.protocol = "roost-mqtt";
    i.local_protocol_name = "roost-mqtt";
    i.method = "MQTT";
    i.alpn = "mqtt";
    i.retry_and_idle_policy = &kIdle;
    i.ssl_connection = tls_ ? LCCSCF_USE_SSL : 0;
    state_ = State::connecting;
    subscribe_pending_ = false;
    inflight_ = false;
    wsi_ = lws_client_connect_via_info(&i);
    nwsi_ = wsi_; // the network connection, until the MQTT stream moves to a child of it
    if (wsi_ == nullptr) retry();
}

// Backoff with jitter: half to all of min(30 s, 0.5 s x 2^attempt).
void MqttBridge::retry() {
    wsi_ = nwsi_ = nullptr;
    state_ = State::down;
    inflight_ = false;
    rng_ ^= rng_ << 13, rng_ ^= rng_ >> 7, rng_ ^= rng_ << 17;
    const std::uint64_t step = std::min<std::uint64_t>(30000, 500ull << std::min<std::uint32_t>(attempt_, 10));
    const std::uint64_t delay = step / 2 + rng_ % (step / 2 + 1);
    ++attempt_;
    lws_sul_schedule(ctx_, 0, &g_retry_sul, on_retry, static_cast<lws_usec_t>(delay) * LWS_US_PER_MS);
}

void MqttBridge::stored(std::uint32_t room) {
    if (state_ == State::up && !inflight_ && wsi_ != nullptr && broker_->bridged(room)) {
        lws_callback_on_writable(wsi_);
    }
}

void MqttBridge::drop(std::uint64_t& counter, const char* reason, std::string_view topic, std::string_view detail) {
    ++counter;
    static SystemClock clock;
    const std::uint64_t now = clock.now_ms();
    if (now - last_log_ms_ >= 1000) {
        last_log_ms_ = now;
        const char* d = detail.empty() ? "" : detail.data(); // never a null pointer for %.*s
        std::printf("roost: mqtt: dropped a message on %.*s: %s (%.*s)\n", static_cast<int>(topic.size()),
                    topic.data(), reason, static_cast<int>(detail.size()), d);
    }
}

void MqttBridge::receive(std::string_view topic, std::string_view payload) {
    // PREFIX/ROOM or PREFIX/ROOM/device/NAME
    if (topic.size() <= prefix_.size() + 1 || topic.substr(0, prefix_.size()) != prefix_ ||
        topic[prefix_.size()] != '/') {
        drop(stats_.dropped_topic, "not a bridge topic", topic, {});
        return;
    }
    std::string_view rest = topic.substr(prefix_.size() + 1);
    const std::size_t slash = rest.find('/');
    const std::string_view room = rest.substr(0, slash);
    std::string_view device;
    if (slash != std::string_view::npos) {
        const std::string_view tail = rest.substr(slash + 1);
        if (tail.substr(0, 7) != "device/" || tail.size() == 7 || tail.find('/', 7) != std::string_view::npos) {
            drop(stats_.dropped_topic, "not a bridge topic", topic, {});
            return;
        }
        device = tail.substr(7);
    }
    char room_buf[kRoomNameMax + 1];
    if (fold_room_name(room, room_buf, sizeof room_buf).empty() || (!device.empty() && !nick_valid(device))) {
        drop(stats_.dropped_topic, "not a room (or device) name", topic, {});
        return;
    }
    DecodeError err;
    Errc e = Errc::ok;
    if (device.empty()) {
        BridgedMsg m;
        e = decoder_->decode_bridged(payload.data(), payload.size(), m, err);
        bool dup = false;
        if (e == Errc::ok) e = broker_->bridge_receive(room, m, dup);
        if (e == Errc::ok && !dup) ++stats_.received;
    } else {
        Command c;
        e = decoder_->decode_device(payload.data(), payload.size(), c, err);
        if (e == Errc::ok) e = broker_->bridge_device(room, device, c, &err.message);
        if (e == Errc::ok) ++stats_.received;
    }
    if (e == Errc::ok) return;
    const std::string_view why = err.message == nullptr || err.message[0] == '\0' ? std::string_view(errc_code(e)) : std::string_view(err.message);
    if (e == Errc::bad_json) drop(stats_.dropped_json, "bad JSON", topic, why);
    else if (e == Errc::bad_utf8) drop(stats_.dropped_utf8, "bad UTF-8", topic, why);
    else if (e == Errc::text_too_long || why.find("larger than") != std::string_view::npos) {
        drop(stats_.dropped_size, "too large", topic, why);
    } else if (e == Errc::forbidden) drop(stats_.dropped_topic, "room not bridged", topic, why);
    else drop(stats_.dropped_other, "refused", topic, why);
}

int MqttBridge::callback(struct lws* wsi, int reason, void* in, std::size_t len) {
    switch (static_cast<lws_callback_reasons>(reason)) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if ((wsi == wsi_ || wsi_ == nullptr) && state_ != State::down) {
            std::printf("roost: mqtt: cannot connect to %s:%d: %s\n", host_.c_str(), port_,
                        in != nullptr ? static_cast<const char*>(in) : "no reason given");
            retry();
        }
        return 0;
    case LWS_CALLBACK_MQTT_CLIENT_ESTABLISHED: {
        // Small frames both ways: no Nagle delay on our side of the link.
        const int one = 1;
        setsockopt(lws_get_socket_fd(lws_get_network_wsi(wsi)), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        wsi_ = wsi;
        nwsi_ = lws_get_network_wsi(wsi);
        ++stats_.connects;
        state_ = State::subscribing;
        subscribe_pending_ = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_MQTT_SUBSCRIBED:
        state_ = State::up;
        attempt_ = 0;
        std::printf("roost: mqtt: connected to %s:%d\n", host_.c_str(), port_);
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_MQTT_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        // When the MQTT broker hangs up, lws 4.3 destroys the network
        // connection without telling the MQTT stream on it (no CLOSED on
        // libuv): either event ends the link, once.
        if ((wsi == wsi_ || wsi == nwsi_) && state_ != State::down) {
            if (wsi == nwsi_ && wsi_ != nullptr && wsi_ != nwsi_) {
                // Its MQTT stream is left behind (lws 4.3): close it soon,
                // outside this destroy, so it is freed.
                lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            }
            ++stats_.disconnects;
            std::printf("roost: mqtt: link to %s:%d closed; reconnecting\n", host_.c_str(), port_);
            retry();
        }
        return 0;
    case LWS_CALLBACK_MQTT_CLIENT_WRITEABLE: {
        if (subscribe_pending_) {
            lws_mqtt_topic_elem_t t[8] = {};
            const std::size_t n = std::min<std::size_t>(topics_.size(), 8);
            for (std::size_t k = 0; k < n; ++k) {
                // Subscriptions are QoS 0 whatever mqtt_qos says: lws 4.3's
                // MQTT client acks an incoming QoS 1 PUBLISH only when one of
                // our own writes happens to follow, and keeps one pending
                // PUBACK id, so the MQTT broker's in-flight window fills and
                // delivery stalls (seen against mosquitto 2.0). What arrives
                // is stored once anyway (duplicates by origin and seq).
                t[k].name = topics_[k].c_str();
                t[k].qos = QOS0;
            }
            lws_mqtt_subscribe_param_t sub{};
            sub.topic = t;
            sub.num_topics = static_cast<std::uint32_t>(n);
            subscribe_pending_ = false;
            return lws_mqtt_client_send_subcribe(wsi, &sub) != 0 ? -1 : 0;
        }
        if (state_ != State::up || inflight_) return 0;
        Broker::BridgeOut out;
        if (!broker_->bridge_next(out)) return 0;
        char topic[160];
        const int tn = std::snprintf(topic, sizeof topic, "%s/%.*s", prefix_.c_str(), static_cast<int>(out.room.size()),
                                     out.room.data());
        lws_mqtt_publish_param_t p{};
        p.topic = topic;
        p.topic_len = static_cast<std::uint16_t>(tn);
        p.qos = qos_ == 0 ? QOS0 : QOS1;
        p.payload_len = static_cast<std::uint32_t>(out.payload.size());
        if (lws_mqtt_client_send_publish(wsi, &p, out.payload.data(), p.payload_len, 1) != 0) return -1;
        ++stats_.published;
        if (qos_ == 0) {
            broker_->bridge_done(out.ri, out.seq);
            lws_callback_on_writable(wsi);
        } else {
            inflight_ = true;
            inflight_room_ = out.ri;
            inflight_seq_ = out.seq;
        }
        return 0;
    }
    case LWS_CALLBACK_MQTT_ACK:
        if (inflight_) {
            broker_->bridge_done(inflight_room_, inflight_seq_);
            inflight_ = false;
        }
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_MQTT_RESEND:
        inflight_ = false; // the same message goes again (its cursor has not moved)
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_MQTT_CLIENT_RX: {
        const auto* pub = static_cast<const lws_mqtt_publish_param_t*>(in);
        if (pub == nullptr) return 0;
        if (pub->payload_pos == 0) {
            rx_len_ = 0;
            rx_over_ = false;
        }
        if (rx_len_ + len > rx_.size() - 1 || pub->payload_len > rx_.size() - 1) {
            rx_over_ = true;
        } else if (len > 0) {
            std::memcpy(rx_.data() + rx_len_, pub->payload, len);
            rx_len_ += len;
        }
        if (pub->payload_pos + len < pub->payload_len) return 0; // more of it to come
        const std::string_view topic(pub->topic, pub->topic_len);
        if (rx_over_) {
            drop(stats_.dropped_size, "too large", topic, "payload larger than max_frame");
        } else {
            receive(topic, std::string_view(rx_.data(), rx_len_));
        }
        return 0;
    }
    default:
        return 0;
    }
}

} // namespace roost
