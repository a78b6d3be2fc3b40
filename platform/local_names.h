// NAME.local for a statically linked Roost (the armv6 build).
//
// Raspberry Pi OS resolves .local names through nss-mdns, an NSS module
// named in /etc/nsswitch.conf that asks avahi-daemon. A static C library
// cannot load that module (on a Pi OS armhf system it is hard-float, the
// armv6 build is soft-float; in general a static glibc may load NSS modules
// only of its own version), so the static build asks avahi-daemon itself,
// over the socket nss-mdns uses (/run/avahi-daemon/socket, avahi's "simple
// protocol"), and only where the OS would: when the hosts line of
// /etc/nsswitch.conf names an mdns module. A dynamically linked Roost leaves
// all names to its C library, which loads the OS's own modules.
//
// Used for the MQTT broker's host (platform/mqtt_bridge.cpp); blocking, like
// the getaddrinfo() libwebsockets does there, for at most kAvahiTimeoutMs.
#pragma once

#include <string>
#include <string_view>

namespace roost {

// How long avahi-daemon gets to answer (it asks the LAN when the name is
// not in its cache; nss-mdns waits 5 s).
inline constexpr int kAvahiTimeoutMs = 3000;

// True when this build resolves .local names itself (a static C library).
[[nodiscard]] bool resolves_local_names();

// The address of `name` from avahi-daemon when this build resolves .local
// names itself, `name` ends in ".local", /etc/nsswitch.conf's hosts line
// names an mdns module and avahi-daemon answers; "" otherwise (the caller
// then leaves the name to getaddrinfo: /etc/hosts, DNS).
[[nodiscard]] std::string resolve_local_name(const std::string& name);

// The parts, for tests:
// The avahi request line nsswitch.conf's text asks for `name`: the hosts
// line's first mdns module decides ("mdns4_minimal" -> IPv4, "mdns6..." ->
// IPv6, "mdns"/"mdns_minimal" -> either); "" when it names none or `name`
// is not a .local name.
[[nodiscard]] std::string avahi_request(std::string_view nsswitch_text, std::string_view name);
// The address in avahi's answer line ("+ 2 0 pi.local 192.168.1.5\n"); ""
// for an error ("-15 Timeout reached\n") or anything malformed.
[[nodiscard]] std::string avahi_address(std::string_view reply);
// Asks the avahi-daemon listening on `socket_path`; "" on any failure.
[[nodiscard]] std::string ask_avahi(const std::string& socket_path, const std::string& request, int timeout_ms);

} // namespace roost
