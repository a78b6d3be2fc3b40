// Slash commands: text that starts with '/' in a `say` goes here instead of
// being stored as typed. A table of commands (name, usage, handler) that
// later bots and games extend; answers are `kind:"bot"` messages in the room
// or an `error`.
#pragma once

#include <cstdint>
#include <string_view>

namespace roost {

class Broker;

struct CommandRouter {
    // Runs `text` (starting with '/') said by session `si` in room `ri`.
    // `cid` is the say's client id (may be empty): the stored answer is
    // acknowledged with it.
    static void run(Broker& b, std::uint32_t si, std::uint32_t ri, std::string_view text, std::string_view cid);

    // The name bot messages are sent from.
    static constexpr std::string_view kBotName = "roost";
};

} // namespace roost
