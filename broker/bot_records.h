// Whether the bytes of a bot record read back from outside the broker (the
// journal's state.roost at start-up) may become a Reminder, Watch, RoomBots
// or BridgeMark (broker/bots.h). The bots trust their tables: strings end
// within their arrays, counts stay within them, words are letters a-z,
// booleans are 0 or 1, numbers finite. A record whose checksum holds but
// breaks any of that (hostile, or written by a bug) is refused, never
// repaired; an unused record is taken only when it is all zeros.
#pragma once

#include "broker/bots.h"

#include <string_view>

namespace roost {

// True when `bytes` (record_size(t) of them) is a record of table `t`
// the bots may use as it is.
[[nodiscard]] bool record_valid(RecordTable t, std::string_view bytes);

} // namespace roost
