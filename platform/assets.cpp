#include "platform/assets.h"

#include <cstring>

namespace roost {

const Asset* find_asset(const char* path) {
    if (path == nullptr || path[0] == '\0' || std::strcmp(path, "/") == 0) {
        path = "/index.html";
    }
    for (const Asset* a = assets_begin(); a != assets_end(); ++a) {
        if (std::strcmp(a->path, path) == 0) {
            return a;
        }
    }
    return nullptr;
}

} // namespace roost
