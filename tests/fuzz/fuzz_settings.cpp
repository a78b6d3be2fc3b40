// libFuzzer target for the settings: the config file (platform/settings.cpp
// parse_config, read through platform/config.cpp from a real file) and the
// command line (parse_args, config_path_from_args), through the one
// settings table (platform/settings_table.cpp) and check_settings().
//
// Input: the config file's text up to the first NUL byte (none: no config
// file), then the command-line arguments, separated by NUL bytes. With a
// config text, `--config FILE` comes first on the command line.
//
// Invariants: nothing crashes; an error says what is wrong, naming the file
// and line (config) or something of the command line; settings that run
// pass check_settings() again, reserve at most kMaxReserve, have every
// number within its row's range, and come back the same through a config
// file written from them (setting_values); load_settings() on the file
// agrees with parse_config() + parse_args() on the text.
#include "broker/reserve.h"
#include "platform/settings.h"
#include "platform/config.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace roost;

void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_settings: broken invariant: %s\n%s\n", what, detail.substr(0, 2000).c_str());
    std::abort();
}
void check(bool ok, const char* what, const std::string& detail = {}) {
    if (!ok) fail(what, detail);
}

std::string g_file; // the config file each input writes

std::string as_config(const std::vector<std::pair<std::string_view, std::string>>& values) {
    std::string text;
    for (const auto& [name, value] : values) {
        if (value.empty() || name == "config") continue; // empty: the default (or a token, a line of its own)
        text += std::string(name) + " = \"" + value + "\"\n";
    }
    return text;
}

// A value a config line can carry back exactly: no quote, no line break.
bool expressible(const std::string& v) { return v.find_first_of("\"\r\n") == std::string::npos; }

void check_runs(const Settings& s, const std::string& ctx) {
    check(check_settings(s).action == ArgsAction::run, "settings that run pass the checks again", ctx);
    check(total_bytes(core_reserve(s.limits)) <= kMaxReserve, "settings that run fit the reservation", ctx);
    const std::vector<SettingDoc> docs = setting_docs();
    const auto values = setting_values(s);
    check(docs.size() == values.size(), "setting_values lists every row");
    for (std::size_t i = 0; i < docs.size(); ++i) {
        long long lo = 0, hi = 0;
        if (std::sscanf(docs[i].bounds.c_str(), "range %lld to %lld", &lo, &hi) == 2) {
            const long long v = std::atoll(values[i].second.c_str());
            check(v >= lo && v <= hi, "a number within its range", std::string(docs[i].name) + " " + values[i].second);
        }
    }
    // A config file written from them reads back the same.
    for (const auto& v : values) {
        if (!expressible(v.second)) return;
    }
    Settings back;
    const ArgsResult r = parse_config(as_config(values), "roundtrip.conf", back);
    check(r.action == ArgsAction::run, "the settings written as a config file are taken", r.message);
    back.tokens = s.tokens;
    back.config_file = s.config_file;
    check(setting_values(back) == values, "the settings come back through a config file", ctx);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    char path[] = "/tmp/roost-fuzz-settings-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) fail("no temporary file");
    close(fd);
    g_file = path;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = in.find('\0');
    const std::string text = in.substr(0, nul);
    std::vector<std::string> args = {"roost"};
    if (!text.empty()) args.insert(args.end(), {"--config", g_file});
    for (std::size_t at = nul; at != std::string::npos && at < in.size();) {
        const std::size_t next = in.find('\0', at + 1);
        args.push_back(in.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
        at = next;
    }
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    const int argc = static_cast<int>(argv.size());
    const std::string ctx = text.substr(0, 300) + " | " + (args.size() > 1 ? args.back() : "");

    // The pure parsers on the text and the flags: the file is read when
    // the command line names one (and does not stop first: --help).
    const std::string_view named = config_path_from_args(argc, argv.data());
    Settings pure;
    ArgsResult r;
    if (!named.empty()) r = parse_config(named == g_file ? text : std::string(), named, pure);
    if (r.action == ArgsAction::error) {
        check(r.message.rfind(std::string(named) + ":", 0) == 0, "a config error names the file and line", r.message);
    } else {
        r = parse_args(argc, argv.data(), pure);
        if (r.action == ArgsAction::error) check(!r.message.empty(), "a command-line error says what is wrong");
    }
    if (r.action == ArgsAction::run) check_runs(pure, ctx);

    // The same through the real file, when the only --config is ours (a
    // path from the input could name a pipe or a device).
    if (named.empty() || named == g_file) {
        FILE* f = std::fopen(g_file.c_str(), "wb");
        if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size()) fail("cannot write", g_file);
        std::fclose(f);
        Settings loaded;
        std::string message;
        ArgsAction action = ArgsAction::run;
        const bool ok = load_settings(argc, argv.data(), loaded, message, action);
        check(ok == (r.action == ArgsAction::run) && action == r.action, "load_settings agrees with the parsers",
              message + " vs " + r.message);
        if (ok) check(setting_values(loaded) == setting_values(pure), "load_settings reads what the parsers read");
    }
    return 0;
}
