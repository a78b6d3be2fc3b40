// Where the settings come from at start: the config file named by --config
// (read here, the only file I/O of the settings), then the command line on
// top of it. The parsing and checking are platform/settings.h's, pure.
#pragma once

#include "platform/settings.h"

#include <string>
#include <vector>

namespace roost {

// Fills `out` (defaults, then the --config file if one is given, then the
// flags, then the checks across settings) and sets `action`: run, help,
// version or error. Returns true only for `run`. For `error`, `message` is
// one line naming the file and line, or the flag, and what is wrong; a
// --config file that cannot be read (missing, a directory, unreadable,
// over 1 MiB) is an error naming it. Without --config no file is read.
[[nodiscard]] bool load_settings(int argc, const char* const* argv, Settings& out, std::string& message,
                                 ArgsAction& action);

// The settings that differ between `running` and `fresh` other than the two
// a reload applies (token, origins): those take effect at the next restart.
[[nodiscard]] std::vector<std::string> changes_needing_restart(const Settings& running, const Settings& fresh);

} // namespace roost
