// Reads the --config file and hands its text to the pure parsers.
#include "platform/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace roost {
namespace {

// A config file is a page of settings; a bigger one is a wrong path.
constexpr std::size_t kConfigMax = 1024 * 1024;

bool read_config(const std::string& path, std::string& text, std::string& err) {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        err = "cannot open config file " + path + ": " + std::strerror(errno != 0 ? errno : ENOENT);
        return false;
    }
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > kConfigMax) {
            err = "config file " + path + " is larger than 1 MiB";
            return false;
        }
    }
    if (in.bad()) {
        // A directory opens, then fails at the first read (EISDIR).
        err = "cannot read config file " + path + ": " + std::strerror(errno != 0 ? errno : EIO);
        return false;
    }
    return true;
}

} // namespace

bool load_settings(int argc, const char* const* argv, Settings& out, std::string& message, ArgsAction& action) {
    message.clear();
    const std::string path(config_path_from_args(argc, argv));
    if (!path.empty()) {
        std::string text;
        if (!read_config(path, text, message)) {
            action = ArgsAction::error;
            return false;
        }
        ArgsResult r = parse_config(text, path, out);
        if (r.action != ArgsAction::run) {
            action = r.action;
            message = std::move(r.message);
            return false;
        }
    }
    ArgsResult r = parse_args(argc, argv, out);
    action = r.action;
    message = std::move(r.message);
    return action == ArgsAction::run;
}

} // namespace roost
