// /proc readings of the server and the generator's own CPU time (measure.h).
#include "measure.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace roost_bench {

ProcSample read_proc(int pid) {
    ProcSample s;
    if (pid <= 0) return s;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (std::FILE* f = std::fopen(path, "r")) {
        char buf[1024] = {};
        const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        buf[n] = '\0';
        // Fields after the ")" of comm: state is field 3; utime 14, stime 15.
        const char* p = std::strrchr(buf, ')');
        unsigned long long utime = 0, stime = 0;
        if (p != nullptr &&
            std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) == 2) {
            s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
        }
    }
    std::snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (std::FILE* f = std::fopen(path, "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f) != nullptr) {
            if (std::strncmp(line, "VmRSS:", 6) == 0) s.rss_kb = std::strtoull(line + 6, nullptr, 10);
        }
        std::fclose(f);
    }
    return s;
}

double own_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

} // namespace roost_bench
