// Roost's version, the one place it is written (the build checks that the
// CMake project version agrees).
#pragma once

#define ROOST_VERSION "0.1.0"
