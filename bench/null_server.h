// `roost-bench serve --port N` (null_server.cpp).
#pragma once

namespace roost_bench {

// Listens on 127.0.0.1:`port` (0: any free port), prints "listening on port
// N" once it accepts, and serves until killed; exits 1 if it cannot listen.
int serve(int port);

} // namespace roost_bench
