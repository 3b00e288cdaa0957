#!/bin/sh
# test.sh: install what is missing, build shade (warnings are errors), and run every test:
# check unit tests, command-line tests, and the test guests under shade and under QEMU
# (TCG). Tests that need /dev/kvm or QEMU skip, saying why, when those are absent.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHADE_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
