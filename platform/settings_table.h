// The settings table's interface for platform/settings.cpp (private to the
// settings parsers; everyone else uses platform/settings.h). One row per
// setting; applying a value to a row is the only place a value is checked,
// for the config file and the command line alike.
#pragma once

#include "platform/settings.h"

#include <string>
#include <string_view>

namespace roost::settings_table {

struct Spec; // one row: name, kind, field, bounds, help

// The row whose name is `key` ('-' and '_' are the same), or nullptr.
[[nodiscard]] const Spec* find(std::string_view key);

[[nodiscard]] std::string_view name(const Spec& spec);
[[nodiscard]] std::string_view value_name(const Spec& spec);

// True for `config`: it names the file itself, so only the command line
// may set it.
[[nodiscard]] bool is_config(const Spec& spec);

// Checks `value` against the row and stores it in `out`. On failure returns
// false and sets `why` to what is wrong with the value, without naming the
// setting ("99 is out of range (4096 to 16777216)"); `out` is unchanged.
[[nodiscard]] bool apply(const Spec& spec, std::string_view value, Settings& out, std::string& why);

// `s` without leading and trailing spaces and tabs.
[[nodiscard]] std::string_view trim(std::string_view s);

} // namespace roost::settings_table
