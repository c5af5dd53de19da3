#!/usr/bin/env sh
# Builds c-hello.wasm with clang and wasm-ld (Debian: apt-get install clang lld).
# Usage: ./build.sh [OUT_DIR]   (default: this folder)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# From this folder, so that `.incbin "manifest.json"` in hello.c finds the manifest.
cd "$here"
clang --target=wasm32-unknown-unknown -O2 -nostdlib \
    -Wall -Wextra -Werror \
    -Wl,--no-entry -Wl,--strip-debug \
    -o "$out/c-hello.wasm" hello.c
echo "$out/c-hello.wasm"
