// RxArena: where lws keeps each WebSocket's receive buffer. lws allocates
// one rx_buffer_size buffer per WebSocket for as long as it lives, but it
// only writes into it for control frames (ping, pong, close) and for frames
// it must parse byte by byte; ordinary text frames are handed to Roost from
// lws's shared per-thread buffer. On the heap those mostly-unwritten
// buffers still end up resident (their neighbours' writes touch the same
// pages), about 4 KiB per idle connection. Here each buffer gets page-aligned
// slots of its own in one region reserved at start: a page becomes resident
// only when lws writes into it, and is given back when the connection ends.
#pragma once

#include <cstddef>

namespace roost {

// Routes lws's "rx_ubuf" allocations of up to `buffer_bytes` to `slots`
// page-aligned slots (reserved, not touched); everything else, and any
// buffer beyond the slots, goes to the C heap. Called once, before the first
// lws context; later calls keep the first arena. False when the region
// cannot be reserved (lws then allocates as usual).
bool install_rx_arena(std::size_t slots, std::size_t buffer_bytes);

// Slots lent out now (for /metrics and tests).
std::size_t rx_arena_in_use();

} // namespace roost
