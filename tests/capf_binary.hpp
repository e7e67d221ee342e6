#pragma once
// The capf binary the tests run. Its path lives in one small file generated per build directory
// (tests/CMakeLists.txt), not in a -D flag on every test: the other test objects are then the
// same in every clone, and the compiler cache serves a fresh clone's build.
const char* capf_binary_path();
#define CAPF_BINARY (::capf_binary_path())
