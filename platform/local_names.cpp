#include "platform/local_names.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace roost {
namespace {

constexpr const char* kNsswitch = "/etc/nsswitch.conf";
constexpr const char* kAvahiSocket = "/run/avahi-daemon/socket";

bool ends_with_local(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    constexpr std::string_view kLocal = ".local";
    if (name.size() <= kLocal.size()) return false;
    for (std::size_t i = 0; i < kLocal.size(); ++i) {
        const char c = name[name.size() - kLocal.size() + i];
        if (std::tolower(static_cast<unsigned char>(c)) != kLocal[i]) return false;
    }
    return true;
}

std::string read_small(const char* path) {
    std::string text;
    FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return text;
    char buf[4096];
    std::size_t n = 0;
    while (text.size() < 65536 && (n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    return text;
}

long long now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

} // namespace

bool resolves_local_names() {
#if defined(ROOST_STATIC_LIBC)
    return true;
#else
    return false;
#endif
}

std::string avahi_request(std::string_view text, std::string_view name) {
    if (!ends_with_local(name) || name.find_first_of(" \t\r\n") != std::string_view::npos) return "";
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        const std::size_t hash = line.find('#');
        if (hash != std::string_view::npos) line = line.substr(0, hash);
        const std::size_t start = line.find_first_not_of(" \t");
        if (start == std::string_view::npos || line.compare(start, 6, "hosts:") != 0) continue;
        line.remove_prefix(start + 6);
        // Words of the hosts line; [ACTION] blocks are not modules.
        while (!line.empty()) {
            const std::size_t b = line.find_first_not_of(" \t");
            if (b == std::string_view::npos) break;
            line.remove_prefix(b);
            if (line[0] == '[') {
                const std::size_t close = line.find(']');
                line.remove_prefix(close == std::string_view::npos ? line.size() : close + 1);
                continue;
            }
            const std::size_t e = line.find_first_of(" \t[");
            const std::string_view word = line.substr(0, e);
            line.remove_prefix(e == std::string_view::npos ? line.size() : e);
            if (word.rfind("mdns", 0) != 0) continue;
            const std::string n(name);
            if (word.rfind("mdns4", 0) == 0) return "RESOLVE-HOSTNAME-IPV4 " + n + "\n";
            if (word.rfind("mdns6", 0) == 0) return "RESOLVE-HOSTNAME-IPV6 " + n + "\n";
            return "RESOLVE-HOSTNAME " + n + "\n";
        }
        return ""; // the hosts line names no mdns module
    }
    return "";
}

std::string avahi_address(std::string_view reply) {
    // "+ INTERFACE PROTOCOL NAME ADDRESS\n"
    if (reply.size() < 2 || reply[0] != '+' || reply.back() != '\n') return "";
    reply.remove_suffix(1);
    const std::size_t last = reply.rfind(' ');
    if (last == std::string_view::npos) return "";
    const std::string address(reply.substr(last + 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET, address.c_str(), buf) != 1 && inet_pton(AF_INET6, address.c_str(), buf) != 1) return "";
    return address;
}

std::string ask_avahi(const std::string& socket_path, const std::string& request, int timeout_ms) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (request.empty() || socket_path.size() >= sizeof sa.sun_path) return "";
    std::memcpy(sa.sun_path, socket_path.c_str(), socket_path.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return "";
    std::string reply;
    const long long deadline = now_ms() + timeout_ms;
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
              send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
    while (ok && reply.find('\n') == std::string::npos && reply.size() < 1024) {
        const long long left = deadline - now_ms();
        pollfd p{fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
        char buf[512];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            reply.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            ok = false;
        }
    }
    close(fd);
    const std::size_t eol = reply.find('\n');
    return ok && eol != std::string::npos ? avahi_address(std::string_view(reply).substr(0, eol + 1)) : "";
}

std::string resolve_local_name(const std::string& name) {
    if (!resolves_local_names()) return "";
    const std::string request = avahi_request(read_small(kNsswitch), name);
    return request.empty() ? "" : ask_avahi(kAvahiSocket, request, kAvahiTimeoutMs);
}

} // namespace roost
