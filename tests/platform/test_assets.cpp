// Tests for the packed page: every file of web/ is in the binary, byte for
// byte, under its URL path, and nothing else is.
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

void every_web_file_is_packed_exactly(void**) {
    const std::vector<std::string> files = web_files();
    assert_true(files.size() > 0);
    for (const std::string& f : files) {
        std::ifstream in(std::string(ROOST_WEB_DIR) + "/" + f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        const std::string want = ss.str();
        const roost::Asset* a = roost::find_asset(("/" + f).c_str());
        if (a == nullptr) {
            fail_msg("web/%s is not packed", f.c_str());
        }
        assert_int_equal(a->size, want.size());
        assert_memory_equal(a->data, want.data(), want.size());
    }
    assert_int_equal(static_cast<std::size_t>(roost::assets_end() - roost::assets_begin()), files.size());
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
        cmocka_unit_test(root_is_the_page_and_unknown_is_null),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
