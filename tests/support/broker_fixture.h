// The set-up every core test starts from: a Broker on a fake clock and a
// seeded random source, with a transport that only notes which sessions it
// was asked to wake. Tests derive from it and add what they drive.
#pragma once

#include "broker/broker.h"

#include <memory>
#include <set>
#include <string>

namespace roost_test {

struct WakeLog final : roost::Transport {
    std::set<roost::SessionId> woken;
    void wake(roost::SessionId s) override { woken.insert(s); }
};

struct BrokerFixture {
    roost::CoreLimits limits;
    roost::FakeClock clock;
    roost::SplitMix random;
    WakeLog transport;
    std::unique_ptr<roost::Broker> broker;

    explicit BrokerFixture(const roost::CoreLimits& l = {}, std::uint64_t seed = 42) : limits(l), random{seed} {
        broker = std::make_unique<roost::Broker>(limits, clock, random, transport);
    }
    void send(roost::SessionId s, const std::string& frame) { broker->on_frame(s, frame.data(), frame.size()); }
    // The room's newest entry ("" when the room or entry is not there).
    std::string last(const std::string& room) const {
        const roost::Room* r = broker->find_room(room);
        const char* d = nullptr;
        std::uint32_t n = 0;
        return r != nullptr && r->history->get(r->history->head(), d, n) ? std::string(d, n) : std::string();
    }
};

} // namespace roost_test
