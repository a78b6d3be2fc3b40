// What the broker has stored, as the fuzz targets compare it before and
// after an input: every room slot's name, epoch, head, oldest, and a hash
// of every message it holds. "A refused request changes nothing stored"
// is `before == after`.
#pragma once

#include "broker/broker.h"

#include <cstdint>
#include <string>
#include <vector>

namespace roost::fuzz {

struct RoomState {
    bool used = false, dm = false;
    std::string name, epoch;
    std::uint64_t head = 0, oldest = 0, hash = 0;
    bool operator==(const RoomState& o) const {
        return used == o.used && dm == o.dm && name == o.name && epoch == o.epoch && head == o.head &&
               oldest == o.oldest && hash == o.hash;
    }
    bool operator!=(const RoomState& o) const { return !(*this == o); }
};

using BrokerState = std::vector<RoomState>;

inline BrokerState snapshot(const Broker& b) {
    BrokerState s(b.room_slots());
    for (std::uint32_t i = 0; i < b.room_slots(); ++i) {
        const Room& r = b.room(i);
        RoomState& st = s[i];
        st.used = r.used;
        if (!r.used) continue;
        st.dm = r.dm;
        st.name = std::string(r.name.view());
        st.epoch = std::string(r.epoch, kEpochLen);
        st.head = r.history->head();
        st.oldest = r.history->oldest();
        std::uint64_t h = 1469598103934665603ull; // FNV-1a over every message held
        for (std::uint64_t seq = st.oldest; seq <= st.head && seq != 0; ++seq) {
            const char* data = nullptr;
            std::uint32_t len = 0;
            if (!r.history->get(seq, data, len)) continue;
            for (std::uint32_t k = 0; k < len; ++k) h = (h ^ static_cast<unsigned char>(data[k])) * 1099511628211ull;
            h = (h ^ seq) * 1099511628211ull;
        }
        st.hash = h;
    }
    return s;
}

} // namespace roost::fuzz
