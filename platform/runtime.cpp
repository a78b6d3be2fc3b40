// Runtime: the fixed tables the lws callbacks share (buffer pool,
// connection slots, token gate) and the core's Transport. No lws callback
// logic here: protocol.cpp turns callbacks into these calls.
#include "platform/conn.h"
#include "platform/http.h"
#include "platform/runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace roost {

namespace {
// Pool buffers hold one HTTP response, one request body, or one
// reassembled WebSocket frame: sized for the largest of each that the
// limits allow, so no answer is ever cut (the writers still check).
std::uint32_t pool_buffer_size(const CoreLimits& l) {
    std::uint64_t n = std::uint64_t{l.ring_bytes} + l.ring_msgs + 512; // a room's whole history, with commas
    n = std::max<std::uint64_t>(n, 64 + std::uint64_t{l.max_rooms} * 128); // GET /api/rooms
    n = std::max<std::uint64_t>(n, kMetricsFixed + std::uint64_t{l.max_rooms} * 80 +
                                       std::uint64_t{l.max_devices} * (kMetricsDeviceLine +
                                                                       std::uint64_t{l.keys_per_device} * kMetricsValueLine)); // /metrics
    n = std::max<std::uint64_t>(n, std::uint64_t{l.max_body} + LWS_PRE);
    n = std::max<std::uint64_t>(n, std::uint64_t{l.max_frame} + LWS_PRE);
    n = std::max<std::uint64_t>(n, device_piece_bytes(l)); // a piece of the devices or a series
    return static_cast<std::uint32_t>(n);
}
} // namespace

std::vector<ReservePart> platform_reserve(const Settings& s) {
    const std::uint64_t slots = std::uint64_t{s.max_connections} + Runtime::kOverflowSlots;
    return {
        {"the request buffers (ring_bytes, max_rooms, max_body, max_frame, max_devices x keys_per_device)",
         std::uint64_t{kPoolBuffers} * pool_buffer_size(s.limits)},
        {"max_connections (request scratch)", slots * sizeof(HttpScratch)},
    };
}

Runtime::Runtime(const Settings& s, const TlsMaterial& t, Clock& c, Random& random)
    : settings(s), tls(t), clock(c), gate(s), broker(s.limits, c, random, *this), post_decoder(s.limits),
      limiter(s.limits.max_addresses), session_wsi(s.limits.max_sessions, nullptr),
      write_asked(s.limits.max_sessions, 0),
      pool(kPoolBuffers, pool_buffer_size(s.limits)), scratch(s.max_connections + kOverflowSlots),
      sse_by_room(s.limits.max_rooms),
      conn_slots(s.max_connections + kOverflowSlots) {
    for (auto& v : sse_by_room) {
        v.reserve(32);
    }
    broker.set_authorizer(&gate);
}

std::int32_t TokenGate::grant(std::string_view token) {
    if (settings_.tokens.empty()) {
        return open;
    }
    const TokenSpec* t = find_token(settings_, token);
    return t == nullptr ? denied : static_cast<std::int32_t>(t - settings_.tokens.data());
}

bool TokenGate::allows(std::int32_t grant, std::string_view room, bool write) {
    if (settings_.tokens.empty() || grant == open) {
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

void Runtime::log_refused_origin(const char* origin) {
    counters.origin_refused++;
    const std::uint64_t now = clock.now_ms();
    if (last_origin_log_ms != 0 && now - last_origin_log_ms < 60000) {
        ++origin_log_suppressed;
        return;
    }
    lwsl_warn("refused a browser request from Origin %s (%llu more since the last report); if the page is served "
              "under that name, add it to the origins setting\n",
              origin, static_cast<unsigned long long>(origin_log_suppressed));
    last_origin_log_ms = now;
    origin_log_suppressed = 0;
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

bool Runtime::durable() {
    if (journal == nullptr || !journal->must_sync_before_reply()) return true;
    // A failing disk is retried by Server::sync_journal once a second, not
    // at every write.
    if (!journal->failing()) {
        const bool ok = journal->sync();
        journal_synced(ok);
        if (ok) return true;
    }
    waiting_for_disk = true;
    return false;
}

void Runtime::journal_synced(bool ok) {
    if (!ok && !journal_failing_logged) {
        std::fprintf(stderr, "roost: journal: the disk refused a sync (%s); acknowledgements wait and posts are "
                             "refused (507) until it takes writes again\n", std::strerror(errno));
        journal_failing_logged = true;
    } else if (ok && journal_failing_logged) {
        std::fprintf(stderr, "roost: journal: the disk takes writes again (%llu syncs failed in all)\n",
                     static_cast<unsigned long long>(journal->stats().sync_failures));
        journal_failing_logged = false;
    }
    if (ok && waiting_for_disk) {
        waiting_for_disk = false;
        for (SessionId s = 1; s <= session_wsi.size(); ++s) write_asked[s - 1] = 0;
        static const lws_protocols roost = roost_protocol(); // matched by callback and name
        lws_callback_on_writable_all_protocol(context, &roost);
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
