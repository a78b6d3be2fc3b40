// A decoded client frame: what broker/decoder.cpp produces from one WebSocket
// frame after complete validation. All views point into the decoder's own
// storage and are valid until the decoder's next decode() call.
#pragma once

#include <cstdint>
#include <string_view>

namespace roost {

enum class CommandType : std::uint8_t { hello, join, leave, say, dm, typing, read, ping };

struct Command {
    CommandType type = CommandType::ping;
    std::string_view nick;      // hello: as given (validated)
    std::string_view token;     // hello: optional, empty when absent
    std::string_view key;       // hello: optional, empty when absent
    std::string_view room;      // join/leave/say/typing/read: folded to lower case, validated
                                // (a direct-message name "@a+b" is accepted here too)
    std::string_view to;        // dm: the other nick (validated)
    std::string_view text;      // say/dm: valid UTF-8, <= max_text bytes (may be empty when data is set)
    std::string_view data_json; // say/dm: the validated `data` object re-encoded compactly, or empty
    std::string_view cid;       // say/dm: optional client id, empty when absent
    bool has_since = false;     // join: `since` given
    std::string_view since_epoch; // join
    std::uint64_t since_seq = 0;  // join
    bool has_backlog = false;   // join
    std::uint32_t backlog = 0;  // join: clamped to the ring size
    bool on = false;            // typing
    std::uint64_t seq = 0;      // read
};

} // namespace roost
