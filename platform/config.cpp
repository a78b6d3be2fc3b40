// Reads the --config file and hands its text to the pure parsers.
#include "platform/config.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace roost {
namespace {

// A config file is a page of settings; a bigger one is a wrong path. Read
// with stdio: <fstream> would link libstdc++'s locale code (see certs.cpp).
constexpr std::size_t kConfigMax = 1024 * 1024;

bool read_config(const std::string& path, std::string& text, std::string& err) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        err = "cannot open config file " + path + ": " + std::strerror(errno);
        return false;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        text.append(buf, n);
        if (text.size() > kConfigMax) {
            std::fclose(f);
            err = "config file " + path + " is larger than 1 MiB";
            return false;
        }
    }
    // A directory opens, then fails at the first read (EISDIR).
    const int read_errno = std::ferror(f) != 0 ? (errno != 0 ? errno : EIO) : 0;
    std::fclose(f);
    if (read_errno != 0) {
        err = "cannot read config file " + path + ": " + std::strerror(read_errno);
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
