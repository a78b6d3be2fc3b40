// Roost's subcommands, for someone logged in to the board (ssh pi@...):
//
//   roost qr [flags]      the URL to open on a phone, as a QR code in this
//                         terminal (the journal cannot show a scannable one)
//   roost status [flags]  /healthz of the running broker, as a table
//
// Both take their settings as the server does (the same flags, --config
// FILE), except that without --config they read the package's
// /etc/roost/roost.conf when it is readable: so they find the broker where
// the service runs it. When that file exists but is not readable (it is
// root:roost 0640), they say so on stderr and go on with the defaults.
// Exit codes: 0 done, 1 failed (no address a phone can reach; the broker
// does not answer or is not ok), 2 usage (a bad flag, an unusable port).
#pragma once

namespace roost {

// The config file the Debian package installs.
inline constexpr const char* kPackageConfig = "/etc/roost/roost.conf";

// True when `arg` (argv[1]) names a subcommand.
[[nodiscard]] bool is_subcommand(const char* arg);

// Runs the subcommand named by argv[1] with the flags after it; returns the
// process exit code.
[[nodiscard]] int run_subcommand(int argc, char** argv);

// The subcommands' lines for `roost --help`.
[[nodiscard]] const char* subcommand_help();

} // namespace roost
