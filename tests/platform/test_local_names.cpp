// Tests for platform/local_names.cpp: which nsswitch.conf hosts lines send a
// name to avahi-daemon and with which request, how its answers are read, and
// the socket exchange against a stand-in avahi on a Unix socket (answers,
// errors, silence, hang-ups, no daemon). The real avahi-daemon and nss-mdns:
// tests/package/test_resolve.py.
#include "platform/local_names.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <thread>

#include "tests/support/unit.h"

namespace {

using roost::avahi_address;
using roost::avahi_request;

void requests_follow_the_hosts_line(void** /*state*/) {
    const char* pi_os = "passwd: files\nhosts:          files mdns4_minimal [NOTFOUND=return] dns\nnetworks: files\n";
    assert_string_equal(avahi_request(pi_os, "broker.local").c_str(), "RESOLVE-HOSTNAME-IPV4 broker.local\n");
    assert_string_equal(avahi_request(pi_os, "Broker.LOCAL").c_str(), "RESOLVE-HOSTNAME-IPV4 Broker.LOCAL\n");
    assert_string_equal(avahi_request(pi_os, "broker.local.").c_str(), "RESOLVE-HOSTNAME-IPV4 broker.local.\n");
    assert_string_equal(avahi_request("hosts: files mdns6_minimal dns\n", "b.local").c_str(),
                        "RESOLVE-HOSTNAME-IPV6 b.local\n");
    assert_string_equal(avahi_request("hosts: files mdns_minimal [NOTFOUND=return] dns mdns\n", "b.local").c_str(),
                        "RESOLVE-HOSTNAME b.local\n");
    assert_string_equal(avahi_request("hosts:\tmdns4\n", "b.local").c_str(), "RESOLVE-HOSTNAME-IPV4 b.local\n");
    // The first mdns module decides; [ACTION] blocks and comments are not modules.
    assert_string_equal(avahi_request("hosts: files [NOTFOUND=return mdns4] mdns6 mdns4 # mdns4\n", "b.local").c_str(),
                        "RESOLVE-HOSTNAME-IPV6 b.local\n");
}

void most_names_and_lines_ask_nothing(void** /*state*/) {
    const char* pi_os = "hosts: files mdns4_minimal [NOTFOUND=return] dns\n";
    for (const char* name : {"broker", "broker.lan", "local", ".local", "broker.localdomain", "broker.local.lan",
                             "", "a b.local", "a\n.local"}) {
        assert_string_equal(avahi_request(pi_os, name).c_str(), "");
    }
    for (const char* text : {"", "hosts: files dns\n", "# hosts: files mdns4_minimal\n", "hosts: files # mdns4\n",
                             "passwd: mdns4\n", "hosts: files [mdns4=return] dns\n", "myhosts: mdns4\n"}) {
        assert_string_equal(avahi_request(text, "broker.local").c_str(), "");
    }
}

void answers_are_read_strictly(void** /*state*/) {
    assert_string_equal(avahi_address("+ 2 0 broker.local 192.168.1.5\n").c_str(), "192.168.1.5");
    assert_string_equal(avahi_address("+ 3 1 broker.local fd00::5\n").c_str(), "fd00::5");
    for (const char* bad : {"-15 Timeout reached\n", "+ 2 0 broker.local 192.168.1.5", "+ 2 0 broker.local\n",
                            "+ 2 0 broker.local not-an-address\n", "+ 2 0 broker.local 999.1.1.1\n", "", "\n",
                            "+\n", "+ 2 0 broker.local 192.168.1.5 \n"}) {
        assert_string_equal(avahi_address(bad).c_str(), "");
    }
}

// A stand-in avahi-daemon: accepts one connection on a fresh socket path,
// reads the request line into `got`, then sends `reply` (nullptr: stays
// silent until the client leaves).
struct FakeAvahi {
    std::string path;
    std::string got;
    int fd = -1;
    std::thread thread;
    FakeAvahi(const char* reply, bool answer) {
        char dir[] = "/tmp/roost-avahi-XXXXXX";
        assert_non_null(mkdtemp(dir));
        path = std::string(dir) + "/socket";
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
        assert_int_equal(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        assert_int_equal(listen(fd, 1), 0);
        const std::string r = reply != nullptr ? reply : "";
        thread = std::thread([this, r, answer] {
            const int c = accept(fd, nullptr, nullptr);
            char buf[256];
            ssize_t n = 0;
            while (got.find('\n') == std::string::npos && (n = recv(c, buf, sizeof buf, 0)) > 0) {
                got.append(buf, static_cast<std::size_t>(n));
            }
            if (answer) send(c, r.data(), r.size(), MSG_NOSIGNAL);
            if (!answer) recv(c, buf, sizeof buf, 0); // until the client gives up
            close(c);
        });
    }
    ~FakeAvahi() {
        if (thread.joinable()) thread.join();
        close(fd);
        unlink(path.c_str());
        rmdir(path.substr(0, path.rfind('/')).c_str());
    }
    FakeAvahi(const FakeAvahi&) = delete;
    FakeAvahi& operator=(const FakeAvahi&) = delete;
};

void the_socket_exchange(void** /*state*/) {
    {
        FakeAvahi avahi("+ 2 0 broker.local 192.168.1.5\n", true);
        assert_string_equal(roost::ask_avahi(avahi.path, "RESOLVE-HOSTNAME-IPV4 broker.local\n", 3000).c_str(),
                            "192.168.1.5");
        avahi.thread.join();
        assert_string_equal(avahi.got.c_str(), "RESOLVE-HOSTNAME-IPV4 broker.local\n");
    }
    {
        FakeAvahi avahi("-15 Timeout reached\n", true);
        assert_string_equal(roost::ask_avahi(avahi.path, "RESOLVE-HOSTNAME-IPV4 nosuch.local\n", 3000).c_str(), "");
    }
    {
        FakeAvahi avahi("", true); // hangs up without a word
        assert_string_equal(roost::ask_avahi(avahi.path, "RESOLVE-HOSTNAME-IPV4 broker.local\n", 3000).c_str(), "");
    }
    {
        FakeAvahi avahi(nullptr, false); // never answers: the timeout ends it
        assert_string_equal(roost::ask_avahi(avahi.path, "RESOLVE-HOSTNAME-IPV4 broker.local\n", 200).c_str(), "");
    }
    assert_string_equal(roost::ask_avahi("/nonexistent/avahi/socket", "RESOLVE-HOSTNAME b.local\n", 200).c_str(), "");
    assert_string_equal(roost::ask_avahi(std::string(200, 'x'), "RESOLVE-HOSTNAME b.local\n", 200).c_str(), "");
}

void only_a_static_build_resolves_by_itself(void** /*state*/) {
#if defined(ROOST_STATIC_LIBC)
    assert_true(roost::resolves_local_names());
#else
    assert_false(roost::resolves_local_names());
    assert_string_equal(roost::resolve_local_name("broker.local").c_str(), "");
#endif
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requests_follow_the_hosts_line),
        cmocka_unit_test(most_names_and_lines_ask_nothing),
        cmocka_unit_test(answers_are_read_strictly),
        cmocka_unit_test(the_socket_exchange),
        cmocka_unit_test(only_a_static_build_resolves_by_itself),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
