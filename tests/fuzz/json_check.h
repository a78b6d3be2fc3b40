// A strict JSON checker for the fuzz targets' invariants: is this exactly
// one JSON document (RFC 8259), in valid UTF-8, with nothing after it but
// whitespace? Stricter than cJSON, which the broker itself uses: no leading
// zeros, no lone surrogate escapes (\ud800 makes no character), no control
// characters in strings, at most 64 levels deep. What a client may parse
// with any JSON library, it accepts; anything else means a broken answer.
#pragma once

#include <string_view>

namespace roost::fuzz {

// True when `text` is one complete, strict JSON document.
[[nodiscard]] bool json_valid(std::string_view text);

// True when `text` is a JSON object (json_valid and starts with '{').
[[nodiscard]] bool json_object(std::string_view text);

// {"error":{"code":"...","message":"..."}} and nothing else: the shape of
// every HTTP error the contract documents.
[[nodiscard]] bool json_error_shape(std::string_view text);

} // namespace roost::fuzz
