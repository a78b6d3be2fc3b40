// RoomView: what the platform reads of a room (the HTTP API, SSE): its
// name, its history's epoch, its member count and its history, read-only.
// The core's Room keeps its cursors, subscriptions and read marks to
// itself. A view names a slot of the room table: it stays valid while the
// broker lives, and used() turns false when the room is gone.
#pragma once

#include "broker/history.h"
#include "broker/tables.h"

#include <cstdint>
#include <string_view>

namespace roost {

class RoomView {
public:
    explicit RoomView(const Room& r) : r_(&r) {}
    bool used() const { return r_->used; }
    bool dm() const { return r_->dm; } // a direct-message room ("@a+b")
    std::string_view name() const { return r_->name.view(); } // lower case
    // kEpochLen characters while used(); NUL-terminated.
    const char* epoch() const { return r_->epoch; }
    std::uint32_t members() const { return r_->members; } // distinct nicks joined
    const RoomHistory& history() const { return *r_->history; }

private:
    const Room* r_;
};

} // namespace roost
