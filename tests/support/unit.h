// CMocka for C++ test files. cmocka.h defines short macros (fail, ...) that
// clash with the standard library, so the standard headers tests use come
// first; and it declares some helpers without extern "C".
#pragma once

#include <cstdarg>
#include <cstddef>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include <cmocka.h>
}
