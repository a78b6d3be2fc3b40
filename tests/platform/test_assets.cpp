// Tests for the packed page: every file of web/ is in the binary under its
// URL path, and nothing else is: byte for byte, except that JavaScript goes
// without whole-line comments, blank lines and indentation
// (cmake/pack-web.cmake), checked here against this file's own reading of
// that rule.
#include "platform/assets.h"

#include <dirent.h>

#include "tests/support/unit.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> web_files() {
    std::vector<std::string> out;
    DIR* d = opendir(ROOST_WEB_DIR);
    assert_non_null(d);
    while (dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (name[0] == '.' || name == "CMakeLists.txt" || e->d_type == DT_DIR) {
            continue;
        }
        out.push_back(name);
    }
    closedir(d);
    return out;
}

// A JavaScript source as packed: each line without its leading blanks;
// lines that are then empty or start with "//" dropped.
std::string packed_js(const std::string& src) {
    std::string out;
    std::istringstream in(src);
    for (std::string line; std::getline(in, line);) {
        const std::size_t b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line.compare(b, 2, "//") == 0) continue;
        out += line.substr(b);
        out += '\n';
    }
    return out;
}

bool ends_with(const std::string& s, const char* tail) {
    const std::size_t n = std::strlen(tail);
    return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

void every_web_file_is_packed_exactly(void**) {
    const std::vector<std::string> files = web_files();
    assert_true(files.size() > 0);
    for (const std::string& f : files) {
        std::ifstream in(std::string(ROOST_WEB_DIR) + "/" + f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        const std::string want = ends_with(f, ".js") ? packed_js(ss.str()) : ss.str();
        const roost::Asset* a = roost::find_asset(("/" + f).c_str());
        if (a == nullptr) {
            fail_msg("web/%s is not packed", f.c_str());
        }
        assert_int_equal(a->size, want.size());
        assert_memory_equal(a->data, want.data(), want.size());
    }
    assert_int_equal(static_cast<std::size_t>(roost::assets_end() - roost::assets_begin()), files.size());
}

void javascript_loses_only_whole_line_comments(void**) {
    assert_string_equal(packed_js("// a\n  const a = 1; // kept\n\n\t  // b\n  x(\"//\");\n").c_str(),
                        "const a = 1; // kept\nx(\"//\");\n");
    const roost::Asset* app = roost::find_asset("/app.js");
    assert_non_null(app);
    const std::string text(reinterpret_cast<const char*>(app->data), app->size);
    assert_true(text.find("\n//") == std::string::npos && text.rfind("//", 0) != 0);
    assert_true(text.find("import ") != std::string::npos);
    const roost::Asset* css = roost::find_asset("/style.css");
    assert_non_null(css);
    assert_true(std::string(reinterpret_cast<const char*>(css->data), css->size).find("/*") != std::string::npos);
}

void page_files_have_their_types(void**) {
    const struct {
        const char* path;
        const char* type;
    } want[] = {{"/manifest.webmanifest", "application/manifest+json"}, {"/sw.js", "text/javascript; charset=utf-8"},
                {"/favicon.ico", "image/x-icon"}, {"/icon-192.png", "image/png"}, {"/icon.svg", "image/svg+xml"}};
    for (const auto& w : want) {
        const roost::Asset* a = roost::find_asset(w.path);
        if (a == nullptr) fail_msg("%s is not packed", w.path);
        assert_string_equal(a->content_type, w.type);
    }
}

void root_is_the_page_and_unknown_is_null(void**) {
    const roost::Asset* root = roost::find_asset("/");
    assert_non_null(root);
    assert_string_equal(root->path, "/index.html");
    assert_string_equal(root->content_type, "text/html; charset=utf-8");
    assert_null(roost::find_asset("/nope.html"));
    assert_null(roost::find_asset("/../CMakeLists.txt"));
    assert_null(roost::find_asset("/CMakeLists.txt"));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_web_file_is_packed_exactly),
        cmocka_unit_test(javascript_loses_only_whole_line_comments),
        cmocka_unit_test(page_files_have_their_types),
        cmocka_unit_test(root_is_the_page_and_unknown_is_null),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
