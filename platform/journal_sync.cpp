// DiskJournal's writes and their durability: every write goes through
// write_at(), which keeps a copy in the write-back log until a sync covers
// it; sync() fdatasyncs every file, and after a sync the disk refused writes
// the log again first (platform/journal.h says why).
#include "platform/journal.h"

#include "platform/journal_file.h"

#include <cerrno>
#include <unistd.h>

namespace roost {

using namespace journal_file;

bool DiskJournal::pwrite_all(int fd, const char* data, std::size_t len, std::uint64_t off) {
    std::size_t done = 0;
    while (done < len) {
        const ssize_t n = pwrite(fd, data + done, len - done, static_cast<off_t>(off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ++stats_.write_errors;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Keeps a copy of a write until the sync that covers it succeeded.
bool DiskJournal::log_write(int fd, const char* data, std::size_t len, std::uint64_t off) {
    constexpr std::size_t kEntryHeader = 16;
    if (log_len_ + kEntryHeader + len > log_cap_) {
        // Full: make what it holds durable first (a group commit comes
        // early), so the log can start again.
        if (!sync()) return false;
        if (kEntryHeader + len > log_cap_) return false; // cannot happen: sized for the largest record
    }
    char* e = log_.get() + log_len_;
    put32(e, static_cast<std::uint32_t>(fd));
    put32(e + 4, static_cast<std::uint32_t>(len));
    put64(e + 8, off);
    std::memcpy(e + kEntryHeader, data, len);
    log_len_ += kEntryHeader + len;
    return true;
}

bool DiskJournal::write_at(int fd, const char* data, std::size_t len, std::uint64_t off) {
    if (failing_) return false; // the disk refuses syncs: take nothing new (Server retries the sync)
    if (!log_write(fd, data, len, off) || !pwrite_all(fd, data, len, off)) return false;
    stats_.bytes += len;
    dirty_ = true;
    return true;
}

bool DiskJournal::sync() {
    if (!dirty_) return true;
    if (failing_) {
        // The last sync failed: the pages it covered may be gone from the
        // cache although the next fdatasync would succeed. Write them again.
        for (std::size_t at = 0; at < log_len_;) {
            const char* e = log_.get() + at;
            const auto len = static_cast<std::size_t>(get32(e + 4));
            if (!pwrite_all(static_cast<int>(get32(e)), e + 16, len, get64(e + 8))) return false;
            at += 16 + len;
        }
    }
    SyncFn fn = sync_fn_ != nullptr ? sync_fn_ : [](int fd) { return fdatasync(fd); };
    ++stats_.syncs;
    if (fn(history_fd_) != 0 || fn(state_fd_) != 0 || fn(readings_fd_) != 0 || fn(devices_fd_) != 0) {
        ++stats_.sync_failures;
        failing_ = true;
        return false;
    }
    failing_ = false;
    dirty_ = false;
    log_len_ = 0;
    return true;
}

} // namespace roost
