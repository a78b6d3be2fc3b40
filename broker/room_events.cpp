// The events that describe rooms rather than carry a message: `welcome`
// (with the room list), `joined`, and the room list of GET /api/rooms. They
// are written from the tables when a socket is writable (fanout.cpp), never
// queued; the platform's room list goes through the same encoder as
// welcome's, so the two cannot drift apart.
#include "broker/broker.h"

#include "broker/version.h"

namespace roost {

void Broker::write_room_list(JsonWriter& w, RoomFilter shows, const void* ctx, bool with_oldest) const {
    w.begin_array();
    for (const Room& r : rooms_) {
        if (!r.used || r.dm || (shows != nullptr && !shows(ctx, r.name.view()))) continue;
        w.begin_object();
        w.key("room");
        w.string(r.name.view());
        w.key("members");
        w.uint(r.members);
        w.key("head");
        w.uint(r.history->head());
        if (with_oldest) {
            w.key("oldest");
            w.uint(r.history->oldest());
        }
        w.end_object();
    }
    w.end_array();
}

namespace {
struct Grant {
    Authorizer* auth;
    std::int32_t grant;
};
bool grant_reads(const void* ctx, std::string_view room) {
    const Grant& g = *static_cast<const Grant*>(ctx);
    return g.auth->allows(g.grant, room, false);
}
} // namespace

void Broker::write_welcome(std::uint32_t si, JsonWriter& w) const {
    const Session& s = sessions_[si];
    const CoreLimits& L = limits_;
    w.begin_object();
    w.key("type");
    w.string("welcome");
    w.key("nick");
    w.string(nicks_[s.nick].display.view());
    w.key("server");
    w.string("roost " ROOST_VERSION);
    w.key("limits");
    w.begin_object();
    w.key("max_text");
    w.uint(L.max_text);
    w.key("max_frame");
    w.uint(L.max_frame);
    w.key("max_body");
    w.uint(L.max_body);
    w.key("ring");
    w.uint(L.ring_msgs);
    w.key("backlog");
    w.uint(L.backlog);
    w.key("max_rooms");
    w.uint(L.max_rooms);
    w.key("rooms_per_session");
    w.uint(L.rooms_per_session);
    w.end_object();
    // Plain rooms this session's token may read.
    w.key("rooms");
    const Grant g{auth_, s.grant};
    write_room_list(w, auth_ != nullptr ? grant_reads : nullptr, &g, false);
    w.end_object();
}

void Broker::write_joined(std::uint32_t sub, JsonWriter& w) const {
    const Subscription& x = subs_[sub];
    const Room& r = rooms_[x.room];
    w.begin_object();
    w.key("type");
    w.string("joined");
    w.key("room");
    w.string(r.name.view());
    w.key("epoch");
    w.string(std::string_view(r.epoch, kEpochLen));
    w.key("head");
    w.uint(r.history->head());
    w.key("oldest");
    w.uint(r.history->oldest());
    // Each nick once, however many of its sessions are in the room.
    w.key("members");
    w.begin_array();
    for (std::uint32_t k = r.first_sub; k != kNone; k = subs_[k].next) {
        const std::uint32_t ni = sessions_[subs_[k].session].nick;
        bool seen = false;
        for (std::uint32_t j = r.first_sub; j != k && !seen; j = subs_[j].next) {
            seen = sessions_[subs_[j].session].nick == ni;
        }
        if (!seen && ni != kNone) w.string(nicks_[ni].display.view());
    }
    w.end_array();
    w.key("reads");
    w.begin_object();
    for (std::uint32_t k = 0; k < limits_.reads_per_room; ++k) {
        if (!r.reads[k].nick.empty()) {
            w.key(r.reads[k].nick.view());
            w.uint(r.reads[k].seq);
        }
    }
    w.end_object();
    w.key("recovered");
    w.boolean(x.recovered);
    w.end_object();
}

} // namespace roost
