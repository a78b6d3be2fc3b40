// The set-up of the journal tests: a broker (BrokerFixture) with its
// DiskJournal on the files of a directory, as Server opens them, with a
// small write-back log. `ok` says whether the journal took the files;
// `report` and `why` hold what it said.
#pragma once

#include "platform/journal.h"
#include "tests/support/broker_fixture.h"

#include <memory>
#include <string>
#include <vector>

namespace roost_test {

struct JournalFixture : BrokerFixture {
    std::unique_ptr<roost::DiskJournal> journal;
    std::vector<std::string> report;
    std::string why;
    bool ok = false;

    JournalFixture(const std::string& dir, const roost::CoreLimits& l) : BrokerFixture(l, 7) {
        journal = std::make_unique<roost::DiskJournal>();
        roost::JournalGeometry g = roost::journal_geometry(limits);
        g.max_event = 2048;
        ok = journal->open(dir, g, roost::FsyncPolicy::batch, *broker, report, why);
        if (ok) broker->set_journal(journal.get());
    }
    std::string reported() const {
        std::string all;
        for (const std::string& r : report) all += r + "\n";
        return all;
    }
};

} // namespace roost_test
