// What the core reserves for a set of CoreLimits, computed without
// allocating: the Broker's constructor reserves exactly this, and the
// settings check refuses limits whose reservation would not fit (64-bit
// arithmetic, so a 32-bit board's check cannot wrap). Also the sizes the
// core's buffers must have so that every answer it writes is whole for any
// limits the settings allow: the largest event, welcome, joined and reply.
#pragma once

#include "broker/limits.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace roost {

// The largest one encoded event (a msg with max_text and max_data).
[[nodiscard]] std::uint64_t max_event_bytes(const CoreLimits& l);

// The bytes of a room's device ring: device_ring_bytes, or when that is 0
// (the default) 32 KiB, raised to hold one largest message.
[[nodiscard]] std::uint32_t device_ring_size(const CoreLimits& l);

// The largest `welcome` (every room listed) and `joined` (every nick a
// member, every read mark) the limits allow.
[[nodiscard]] std::uint64_t welcome_max_bytes(const CoreLimits& l);
[[nodiscard]] std::uint64_t joined_max_bytes(const CoreLimits& l);

// The broker's frame buffer: headroom, then the largest of one batch,
// one event, one welcome and one joined.
[[nodiscard]] std::uint64_t frame_buffer_bytes(const CoreLimits& l);

// Bytes a session's control buffer must have free before the session's
// next frame is read: the largest answer to one frame (an `error` with its
// message and ref, or an `ack`), with its length prefix.
[[nodiscard]] std::uint64_t reply_reserve_bytes(const CoreLimits& l);

// The longest error message the core writes (longer ones are cut).
inline constexpr std::size_t kMaxErrorMessage = 200;

// One part of the reservation: what takes it ("max_rooms x ring_bytes") and
// how many bytes.
struct ReservePart {
    std::string what;
    std::uint64_t bytes = 0;
};

// Every part of what a Broker with limits `l` reserves, largest first.
[[nodiscard]] std::vector<ReservePart> core_reserve(const CoreLimits& l);
[[nodiscard]] std::uint64_t total_bytes(const std::vector<ReservePart>& parts);

} // namespace roost
