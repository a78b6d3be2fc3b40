// Runtime: the fixed tables the lws callbacks share (buffer pool,
// connection slots, token gate) and the core's Transport. No lws callback
// logic here: protocol.cpp turns callbacks into these calls.
#include "platform/conn.h"
#include "platform/runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace roost {

namespace {
// Pool buffers hold one HTTP response (a room's whole history at most), one
// request body, or one reassembled WebSocket frame.
std::uint32_t pool_buffer_size(const CoreLimits& l) {
    std::uint32_t n = l.ring_bytes + 4096;
    if (n < l.max_body + LWS_PRE) n = l.max_body + LWS_PRE;
    if (n < l.max_frame + LWS_PRE) n = l.max_frame + LWS_PRE;
    return n;
}
} // namespace

Runtime::Runtime(const Settings& s, const TlsMaterial& t, Clock& c, Random& random)
    : settings(s), tls(t), clock(c), gate(s), broker(s.limits, c, random, *this), post_decoder(s.limits),
      limiter(s.limits.max_addresses), session_wsi(s.limits.max_sessions, nullptr),
      write_asked(s.limits.max_sessions, 0),
      pool(16, pool_buffer_size(s.limits)), scratch(s.max_connections + kOverflowSlots),
      sse_by_room(s.limits.max_rooms),
      conn_slots(s.max_connections + kOverflowSlots) {
    for (auto& v : sse_by_room) {
        v.reserve(32);
    }
    broker.set_authorizer(&gate);
}

std::int32_t TokenGate::grant(std::string_view token) {
    if (settings_.tokens.empty()) {
        return 0;
    }
    const TokenSpec* t = find_token(settings_, token);
    return t == nullptr ? denied : static_cast<std::int32_t>(t - settings_.tokens.data());
}

bool TokenGate::allows(std::int32_t grant, std::string_view room, bool write) {
    if (settings_.tokens.empty()) {
        return true;
    }
    return grant >= 0 && static_cast<std::size_t>(grant) < settings_.tokens.size() &&
           token_allows(settings_.tokens[static_cast<std::size_t>(grant)], room, write);
}

bool Runtime::admit(const std::uint8_t addr[16], bool on_tls) {
    if (accepting >= 0) { // the last adoption failed before it had a wsi
        release_slot(conn_slots[static_cast<std::size_t>(accepting)]);
        accepting = -1;
    }
    std::uint32_t same = 0;
    int free_slot = -1;
    for (std::size_t i = 0; i < conn_slots.size(); ++i) {
        if (!conn_slots[i].used) {
            if (free_slot < 0) free_slot = static_cast<int>(i);
        } else if (std::memcmp(conn_slots[i].addr, addr, 16) == 0) {
            ++same;
        }
    }
    if (same >= settings.max_per_address) {
        ++refused_per_address;
        return false;
    }
    if (free_slot < 0) {
        ++refused_full;
        return false;
    }
    conn_slots[static_cast<std::size_t>(free_slot)].used = true;
    conn_slots[static_cast<std::size_t>(free_slot)].wsi = nullptr;
    conn_slots[static_cast<std::size_t>(free_slot)].tls = on_tls;
    conn_slots[static_cast<std::size_t>(free_slot)].served = false;
    conn_slots[static_cast<std::size_t>(free_slot)].accepted_ms = clock.now_ms();
    std::memcpy(conn_slots[static_cast<std::size_t>(free_slot)].addr, addr, 16);
    accepting = free_slot;
    ++connections;
    return true;
}

// lws adopts the accepted socket right after the filter said yes, in the
// same call: WSI_CREATE names the new wsi, NEW_CLIENT_INSTANTIATED (after lws
// set the wsi's opaque pointer itself) ties the slot to it. An adoption that
// fails in between is destroyed with no slot tied: the reserved one is freed.
void Runtime::on_wsi_create(struct lws* wsi) {
    if (accepting >= 0) {
        conn_slots[static_cast<std::size_t>(accepting)].wsi = wsi;
    }
}

void Runtime::on_instantiated(struct lws* wsi) {
    if (accepting >= 0 && conn_slots[static_cast<std::size_t>(accepting)].wsi == wsi) {
        ConnSlot& slot = conn_slots[static_cast<std::size_t>(accepting)];
        lws_set_opaque_user_data(wsi, &slot);
        accepting = -1;
    }
}

void Runtime::note_request(struct lws* wsi) {
    auto* slot = static_cast<ConnSlot*>(lws_get_opaque_user_data(wsi));
    if (slot != nullptr && slot >= conn_slots.data() && slot < conn_slots.data() + conn_slots.size()) {
        slot->served = true;
    }
}

namespace {
// "1.2.3.4" or "2001:db8::1" from the 16-byte (IPv4-mapped) form.
void format_address(const std::uint8_t addr[16], char* out, std::size_t cap) {
    static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(addr, mapped, 12) == 0) {
        inet_ntop(AF_INET, addr + 12, out, static_cast<socklen_t>(cap));
    } else {
        inet_ntop(AF_INET6, addr, out, static_cast<socklen_t>(cap));
    }
}
} // namespace

// lws with mbedTLS reports no handshake result to the application, so a
// failure is what it looks like from here: a connection to the TLS port that
// closed before one complete request arrived (the handshake failed, was
// refused by the client, or did not finish within handshake_timeout_s).
// Logged with the peer's address, at most one line a second.
void Runtime::tls_closed_unserved(const ConnSlot& slot) {
    counters.tls_handshake_failures++;
    const std::uint64_t now = clock.now_ms();
    if (now - last_tls_log_ms < 1000) {
        ++tls_log_suppressed;
        return;
    }
    char ip[INET6_ADDRSTRLEN];
    format_address(slot.addr, ip, sizeof ip);
    lwsl_warn("TLS handshake failed or timed out: %s after %llu ms (%llu more since the last report)\n", ip,
              static_cast<unsigned long long>(now - slot.accepted_ms),
              static_cast<unsigned long long>(tls_log_suppressed));
    last_tls_log_ms = now;
    tls_log_suppressed = 0;
}

void Runtime::release_slot(ConnSlot& slot) {
    if (slot.used) {
        if (slot.tls && !slot.served) {
            tls_closed_unserved(slot);
        }
        slot.used = false;
        slot.wsi = nullptr;
        --connections;
    }
}

void Runtime::on_wsi_destroy(struct lws* wsi) {
    auto* slot = static_cast<ConnSlot*>(lws_get_opaque_user_data(wsi));
    if (slot != nullptr && slot >= conn_slots.data() && slot < conn_slots.data() + conn_slots.size()) {
        release_slot(*slot);
        lws_set_opaque_user_data(wsi, nullptr);
    } else if (accepting >= 0 && conn_slots[static_cast<std::size_t>(accepting)].wsi == wsi) {
        release_slot(conn_slots[static_cast<std::size_t>(accepting)]);
        accepting = -1;
    }
}

void Runtime::wake(SessionId s) {
    if (s != 0 && s <= session_wsi.size() && session_wsi[s - 1] != nullptr && write_asked[s - 1] == 0 &&
        lws_callback_on_writable(session_wsi[s - 1]) == 1) {
        write_asked[s - 1] = 1;
    }
}

void Runtime::stored(std::uint32_t room) {
    mqtt.stored(room);
    if (room < sse_by_room.size()) {
        for (struct lws* wsi : sse_by_room[room]) {
            lws_callback_on_writable(wsi);
        }
    }
}

} // namespace roost
