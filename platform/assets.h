// The page's files, packed into the binary at build time from web/ by
// cmake/pack-web.cmake (the table lives in a generated source).
#pragma once

#include <cstddef>

namespace roost {

struct Asset {
    const char* path;         // URL path, e.g. "/index.html"
    const char* content_type; // e.g. "text/html; charset=utf-8"
    const unsigned char* data;
    std::size_t size;
    const unsigned char* gzip; // the same bytes, gzip-compressed at build time
    std::size_t gzip_size;
    const char* etag;          // quoted, e.g. "\"3f2a...\"": a hash of the content
};

// The generated table, sorted by path; valid for the life of the program.
const Asset* assets_begin();
const Asset* assets_end();

// The asset for a URL path ("/" means "/index.html"), or nullptr.
const Asset* find_asset(const char* path);

} // namespace roost
