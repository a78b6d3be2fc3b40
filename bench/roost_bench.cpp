// roost-bench: a single-threaded epoll load generator for chat brokers.
//
// It speaks four dialects over plain TCP: Roost's JSON protocol over
// WebSocket (also spoken by the Node `ws` peer), Socket.IO 4 over WebSocket,
// MQTT 3.1.1 QoS 0 (mosquitto), and a do-nothing WebSocket server of its own
// ("serve") that answers the same JSON subset with one send() per delivery:
// the floor a broker without batching can reach. --tls speaks TLS 1.2
// (mbedTLS, the broker's own configuration; the certificate is not
// verified: this measures, it does not authenticate).
//
// This file is the command line. The connections, scenarios and results
// are the load driver's (load_driver.h, which lists the scenarios); each
// dialect has its file (dialect.h lists them); the server is null_server.cpp.
#include "load_driver.h"
#include "null_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void usage() {
    std::fputs(
        "usage: roost-bench [options]            run a scenario against a server\n"
        "       roost-bench serve --port N        the do-nothing WebSocket server (one send per delivery)\n"
        "options:\n"
        "  --scenario fanout|all2all|idle  (fanout)\n"
        "  --dialect roost|socketio|mqtt   (roost; the Node ws peer speaks roost)\n"
        "  --host ADDR --port N            the server (127.0.0.1:8080)\n"
        "  --members N                     clients in the room, the publisher included (10)\n"
        "  --conns N                       idle connections (1000)\n"
        "  --slow K                        members that stop reading (0)\n"
        "  --rate R                        open loop: messages/s from the publisher; 0 = closed loop (0)\n"
        "  --window W                      closed loop: messages the slowest member may lack (128; below the ring)\n"
        "  --seconds S                     duration (5)\n"
        "  --size B                        message text bytes (100)\n"
        "  --server-pid PID                read the server's CPU time and RSS from /proc\n"
        "  --label TEXT                    copied into the JSON result\n"
        "  --tls 1                         TLS 1.2 (no certificate check)\n",
        stderr);
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) {
        const int port = argc >= 4 && std::strcmp(argv[2], "--port") == 0 ? std::atoi(argv[3]) : 0;
        return roost_bench::serve(port);
    }
    roost_bench::Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        const char* v = argv[++i];
        if (a == "--scenario") o.scenario = v;
        else if (a == "--dialect") {
            const std::string d = v;
            if (d == "roost") o.dialect = roost_bench::DialectKind::roost;
            else if (d == "socketio") o.dialect = roost_bench::DialectKind::socketio;
            else if (d == "mqtt") o.dialect = roost_bench::DialectKind::mqtt;
            else {
                usage();
                return 2;
            }
        } else if (a == "--host") o.host = v;
        else if (a == "--port") o.port = std::atoi(v);
        else if (a == "--members") o.members = std::max(1, std::atoi(v));
        else if (a == "--conns") o.conns = std::max(1, std::atoi(v));
        else if (a == "--slow") o.slow = std::max(0, std::atoi(v));
        else if (a == "--rate") o.rate = std::atof(v);
        else if (a == "--window") o.window = std::atoi(v);
        else if (a == "--seconds") o.seconds = std::atof(v);
        else if (a == "--size") o.size = std::clamp(std::atoi(v), 16, 4000);
        else if (a == "--server-pid") o.server_pid = std::atoi(v);
        else if (a == "--label") o.label = v;
        else if (a == "--tls") o.tls = std::atoi(v) != 0;
        else {
            usage();
            return 2;
        }
    }
    if (o.slow >= o.members) o.slow = o.members - 1;
    roost_bench::LoadDriver g(o);
    return g.run();
}
