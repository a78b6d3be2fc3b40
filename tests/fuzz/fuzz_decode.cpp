// libFuzzer target for broker/decoder.cpp: any byte string fed to
// Decoder::decode() must return an error or a Command that keeps the
// decoder's promises; under ASan/UBSan it must never crash, overflow or
// leak. One decoder serves every input, as one does a whole session.
#include "broker/decoder.h"
#include "broker/names.h"
#include "broker/utf8.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

const roost::CoreLimits kLimits{};

// The Command's promises; a broken one aborts so the fuzzer keeps the input.
void check(bool ok) {
    if (!ok) std::abort();
}

void check_command(const roost::Command& c) {
    check(roost::utf8_valid(c.text) && c.text.size() <= kLimits.max_text);
    check(!c.text.empty() || !c.data_json.empty() || (c.type != roost::CommandType::say && c.type != roost::CommandType::dm));
    check(c.cid.size() <= kLimits.max_cid && c.key.size() <= kLimits.max_key && c.token.size() <= kLimits.max_key);
    check(c.backlog <= kLimits.ring_msgs);
    switch (c.type) {
    case roost::CommandType::hello: check(roost::nick_valid(c.nick)); break;
    case roost::CommandType::dm: check(roost::nick_valid(c.to)); break;
    case roost::CommandType::join:
    case roost::CommandType::leave:
    case roost::CommandType::say:
    case roost::CommandType::typing:
    case roost::CommandType::read: {
        roost::DmNicks nicks;
        check(roost::room_name_valid(c.room) || roost::parse_dm_room_name(c.room, nicks));
        break;
    }
    case roost::CommandType::ping: break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static roost::Decoder decoder(kLimits);
    roost::Command cmd;
    roost::DecodeError err;
    const roost::Errc e = decoder.decode(reinterpret_cast<const char*>(data), size, cmd, err);
    check(err.message != nullptr);
    if (e == roost::Errc::ok) {
        check_command(cmd);
    } else {
        check(err.message[0] != '\0');
        check(roost::utf8_valid(err.ref));
    }
    return 0;
}
