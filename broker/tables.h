// The broker's fixed tables: rooms, sessions, subscriptions, nicks. Every
// table is an array sized once from CoreLimits at start-up (see
// Broker::Broker); entries are recycled, never allocated per message.
//
// Who points at whom (indices, never pointers, so the arrays stay movable):
//
//   Session ──subs[k]──▶ Subscription ◀──intrusive list── Room
//      │                   (room, session, next seq to send)
//      └─nick──▶ Nick (display name, owning key, live connection count)
#pragma once

#include "broker/history.h"
#include "broker/names.h"
#include "broker/ring.h"
#include "broker/rate_limit.h"

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace roost {

constexpr std::uint32_t kNone = 0xffffffffu;
constexpr std::size_t kEpochLen = 8;

// A short fixed-capacity string (no heap).
template <std::size_t N>
struct FixedStr {
    char buf[N + 1] = {};
    std::uint8_t len = 0;
    std::string_view view() const { return {buf, len}; }
    bool assign(std::string_view s) {
        if (s.size() > N) return false;
        for (std::size_t i = 0; i < s.size(); ++i) buf[i] = s[i];
        len = static_cast<std::uint8_t>(s.size());
        buf[len] = '\0';
        return true;
    }
    bool empty() const { return len == 0; }
};

struct ReadMark {
    FixedStr<kNickMax> nick; // display form
    std::uint64_t seq = 0;
};

// One room. The ring is constructed once for every slot at start-up; a
// recycled room keeps its ring memory and starts a new history (new epoch).
struct Room {
    bool used = false;
    bool dm = false;
    FixedStr<kAnyRoomNameMax> name;     // lower case; "@a+b" for direct messages
    FixedStr<kNickMax> dm_a, dm_b;   // the two parties of a DM room, lower case
    char epoch[kEpochLen + 1] = {};
    RoomHistory* history = nullptr;  // owned by Broker: people's ring and the devices' ring
    std::uint32_t first_sub = kNone; // intrusive list of subscriptions
    std::uint32_t sessions = 0;      // subscriptions in the list
    std::uint32_t members = 0;       // distinct nicks among them
    std::uint64_t last_active_ms = 0;
    ReadMark* reads = nullptr;       // reads_per_room entries, owned by Broker
};

// A session's membership of one room and its cursor in the room's ring.
// Subscriptions live in a ZeroTable: an entry that was never written is all
// zero bytes, which reads as used == false, and no other field of an unused
// entry is ever read (an entry is reset to Subscription{} before use).
struct Subscription {
    bool used = false;
    bool joined_pending = false; // the `joined` event is still to be written
    bool recovered = false;      // for the pending `joined`
    std::uint32_t room = kNone;
    std::uint32_t session = kNone;
    std::uint64_t next_seq = 0;  // next seq to send from the room's ring
    std::uint32_t prev = kNone, next = kNone; // the room's list
    std::uint64_t join_order = 0; // joined events go out in join order
};

enum class SessionState : std::uint8_t { free, connected, ready, closing };

// One WebSocket connection. Small events (ack, error, presence, typing,
// read, pong, left, bye) wait in `control` (control_bytes, owned by Broker);
// welcome and joined are generated when the socket is writable; messages
// are read from the rooms' rings through the subscriptions.
struct Session {
    SessionState state = SessionState::free;
    std::uint32_t nick = kNone;
    bool welcome_pending = false;
    std::uint16_t close_code = 0;     // set when closing: close after `bye` is written
    std::uint32_t first_sub = 0;      // index of this session's first subscription slot
    char* control = nullptr;
    std::uint32_t control_len = 0;    // bytes of comma-separated events waiting
    std::uint32_t control_events = 0;
    std::uint32_t rr = 0;             // round-robin start among subscriptions
    TokenBucket msg_bucket, typing_bucket;
    ErrorCounter errors;
    std::uint8_t addr[16] = {};
    std::int32_t grant = 0;           // the Authorizer's answer to this hello's token
};

// A nick known to the broker: online (connections > 0) or owned by a key.
struct Nick {
    bool used = false;
    FixedStr<kNickMax> display, lower;
    char* key = nullptr;       // max_key bytes, owned by Broker
    std::uint32_t key_len = 0; // 0: not owned
    std::uint32_t connections = 0;
};

// A fixed array of `n` T from calloc: a large table comes straight from the
// kernel's zero pages, so it reserves its memory at start but costs RSS
// only where entries are written. For trivially copyable types whose
// all-zero bytes are a valid "unused" entry (documented on the type).
template <typename T>
class ZeroTable {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "ZeroTable holds plain data only");

public:
    ZeroTable() = default;
    explicit ZeroTable(std::size_t n) : data_(static_cast<T*>(std::calloc(n == 0 ? 1 : n, sizeof(T)))), size_(n) {
        if (data_ == nullptr) throw std::bad_alloc();
    }
    ZeroTable(const ZeroTable&) = delete;
    ZeroTable& operator=(const ZeroTable&) = delete;
    ZeroTable(ZeroTable&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
    ZeroTable& operator=(ZeroTable&& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        return *this;
    }
    ~ZeroTable() { std::free(data_); }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }
    std::size_t size() const { return size_; }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace roost
