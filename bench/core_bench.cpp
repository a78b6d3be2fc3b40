// roost-core-bench: the pure core's costs, measured in-process (no sockets):
//   publish    ns per `say` frame: decode + validate + encode + store
//   deliver    ns per frame written to a member (straight from the ring)
//   batch      messages per frame when members are behind, and ns per message
//   allocs     heap allocations per message in steady state
//   reading    ns per device reading of 5 numeric keys through Broker::post
//              (device ring, device store: latest values and every archive's
//              bucket), 8 devices in one room, and its allocations
// Prints a table and writes JSON to the path given as argv[1] (if any).
// This is a benchmark, not a test: it asserts nothing.
#include "broker/broker.h"

#include "tests/support/alloc_counter.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct NullTransport final : roost::Transport {
    void wake(roost::SessionId) override {}
};

struct RealClock final : roost::Clock {
    std::uint64_t now_ms() override {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    }
};

double now_ns() {
    return static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

struct Setup {
    roost::CoreLimits limits;
    RealClock clock;
    roost::SplitMix random{1};
    NullTransport transport;
    roost::Broker broker;
    std::vector<roost::SessionId> members;
    explicit Setup(int n, roost::CoreLimits l) : limits(l), broker(limits, clock, random, transport) {
        const std::uint8_t addr[16] = {};
        const std::string join = "{\"type\":\"join\",\"room\":\"lab\"}";
        for (int i = 0; i < n; ++i) {
            const roost::SessionId s = broker.open_session(addr);
            const std::string hello = "{\"type\":\"hello\",\"nick\":\"n" + std::to_string(i) + "\"}";
            broker.on_frame(s, hello.data(), hello.size());
            broker.on_frame(s, join.data(), join.size());
            members.push_back(s);
        }
        drain();
    }
    std::uint64_t drain() {
        std::uint64_t frames = 0;
        for (roost::SessionId s : members) {
            roost::Frame f;
            while (broker.next_frame(s, f)) ++frames;
        }
        return frames;
    }
};

// A ~100-byte chat message, as a client sends it.
const std::string kSay =
    "{\"type\":\"say\",\"room\":\"lab\",\"text\":\"the kitchen sensor reads 21.5 C and the door is closed, all good\"}";

} // namespace

int main(int argc, char** argv) {
    roost::CoreLimits limits;
    limits.msg_rate = 1000000000;
    limits.msg_burst = 1000000000;
    const int rounds = 2000;

    // 1. publish: one member (the sender), drained every 64 messages.
    double publish_ns = 0;
    std::uint64_t publish_allocs = 0;
    {
        Setup s(1, limits);
        const std::uint64_t a0 = roost_test::alloc_count();
        double t = 0;
        for (int r = 0; r < rounds; ++r) {
            const double t0 = now_ns();
            for (int i = 0; i < 64; ++i) s.broker.on_frame(s.members[0], kSay.data(), kSay.size());
            t += now_ns() - t0;
            s.drain();
        }
        publish_ns = t / (rounds * 64.0);
        publish_allocs = roost_test::alloc_count() - a0;
    }

    // 2. fan-out to 50 members, each drained after every message (one
    // frame per message, straight from the ring).
    double deliver_ns = 0;
    std::uint64_t fan_allocs = 0;
    {
        Setup s(50, limits);
        const std::uint64_t a0 = roost_test::alloc_count();
        double t = 0;
        std::uint64_t frames = 0;
        for (int r = 0; r < rounds * 10; ++r) {
            s.broker.on_frame(s.members[static_cast<std::size_t>(r) % 50], kSay.data(), kSay.size());
            const double t0 = now_ns();
            frames += s.drain();
            t += now_ns() - t0;
        }
        deliver_ns = t / static_cast<double>(frames);
        fan_allocs = roost_test::alloc_count() - a0;
    }

    // 3. batching: members 32 messages behind, drained in batched frames.
    double batch_msgs = 0, batch_ns_per_msg = 0;
    {
        Setup s(50, limits);
        double t = 0;
        std::uint64_t frames = 0, msgs = 0;
        for (int r = 0; r < rounds; ++r) {
            for (int i = 0; i < 32; ++i) s.broker.on_frame(s.members[0], kSay.data(), kSay.size());
            msgs += 32 * 50;
            const double t0 = now_ns();
            frames += s.drain();
            t += now_ns() - t0;
        }
        batch_msgs = static_cast<double>(msgs) / static_cast<double>(frames);
        batch_ns_per_msg = t / static_cast<double>(msgs);
    }

    // 4. device readings: 8 devices, 5 numeric keys each, as the HTTP API
    // hands them to the core (the decoder's compact data). No journal.
    double reading_ns = 0, reading_allocs = 0;
    {
        Setup s(1, limits);
        const char* names[8] = {"kitchen", "garage", "attic", "cellar", "porch", "garden", "shed", "hall"};
        std::vector<std::string> data;
        for (int i = 0; i < 16; ++i) {
            data.push_back("{\"temp\":" + std::to_string(20 + i % 5) + ".5,\"hum\":" + std::to_string(40 + i) +
                           ".25,\"pressure\":1013." + std::to_string(i % 10) + ",\"co2\":" + std::to_string(600 + i) +
                           ",\"volts\":3.3" + std::to_string(i % 10) + "}");
        }
        roost::PostResult r;
        for (int i = 0; i < 64; ++i) { // every device and series made first
            (void)s.broker.post("sensors", names[i % 8], roost::MsgKind::device, "", data[0], {}, r);
        }
        const int n = rounds * 64;
        const std::uint64_t a0 = roost_test::alloc_count();
        const double t0 = now_ns();
        for (int i = 0; i < n; ++i) {
            (void)s.broker.post("sensors", names[i % 8], roost::MsgKind::device, "",
                                data[static_cast<std::size_t>(i) % data.size()], {}, r);
        }
        reading_ns = (now_ns() - t0) / n;
        reading_allocs = static_cast<double>(roost_test::alloc_count() - a0) / n;
    }

    const double msgs_total = rounds * 64.0 + rounds * 10.0;
    const double allocs_per_msg = static_cast<double>(publish_allocs + fan_allocs) / msgs_total;
    std::printf("roost core benchmark (%zu-byte say frames, release build)\n", kSay.size());
    std::printf("  publish (decode+validate+encode+store)   %8.0f ns/message\n", publish_ns);
    std::printf("  deliver, 50 members, 1 message/frame     %8.0f ns/frame\n", deliver_ns);
    std::printf("  batched, 50 members 32 behind            %8.1f messages/frame, %.0f ns/message\n", batch_msgs,
                batch_ns_per_msg);
    std::printf("  heap allocations per message             %8.3f\n", allocs_per_msg);
    std::printf("  device reading, 5 numeric keys (store)   %8.0f ns/reading, %.3f allocations/reading\n", reading_ns,
                reading_allocs);
    if (argc > 1) {
        FILE* f = std::fopen(argv[1], "w");
        if (f != nullptr) {
            std::fprintf(f,
                         "{\"publish_ns\":%.1f,\"deliver_ns_per_frame\":%.1f,\"batch_messages_per_frame\":%.2f,"
                         "\"batch_ns_per_message\":%.1f,\"allocations_per_message\":%.4f,"
                         "\"device_reading_ns\":%.1f,\"device_reading_allocations\":%.4f}\n",
                         publish_ns, deliver_ns, batch_msgs, batch_ns_per_msg, allocs_per_msg, reading_ns, reading_allocs);
            std::fclose(f);
        }
    }
    return 0;
}
