// A Journal for unit tests: accepts every write and keeps the newest bytes
// of each record table entry (as DiskJournal would keep them on disk), so a
// test can rebuild a second broker from them (Broker::restore_record).
#pragma once

#include "broker/journal.h"

#include <map>
#include <string>
#include <utility>

namespace roost_test {

struct RecordingJournal final : roost::Journal {
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::string> bots; // (table, index) -> bytes
    roost::Errc room_started(std::uint32_t, std::string_view, std::string_view) override { return roost::Errc::ok; }
    roost::Errc appended(std::uint32_t, roost::HistoryClass, std::uint64_t, const roost::EntryMeta&,
                         std::string_view) override {
        return roost::Errc::ok;
    }
    void key_set(std::uint32_t, std::string_view, std::string_view) override {}
    void read_set(std::uint32_t, std::uint32_t, std::string_view, std::uint64_t) override {}
    void record_saved(std::uint32_t t, std::uint32_t i, std::string_view b) override { bots[{t, i}] = std::string(b); }
};

} // namespace roost_test
