#!/usr/bin/env bash
# npm run test:sanitize — the sanitizer tier. Builds, in build/sanitize/ (apart from the normal build):
#   1. the native unit tests and fuzz regression replays with ASan + UBSan, run by ctest with leak checking;
#   2. the Node-API addon with ASan + UBSan, and runs the whole mocha suite against it (TEZIP_ADDON points
#      the library at it; node itself is not instrumented, so the ASan runtime is LD_PRELOADed and leak
#      checking is off for node, whose own allocations at exit are not ours).
# Every report is fatal (-fno-sanitize-recover=all, halt_on_error), and the logs are searched for reports
# once more at the end, so the tier passes only with zero ASan/UBSan reports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=build/sanitize
mkdir -p "$B"
LOG="$B/sanitize.log"
: > "$LOG"

echo "== sanitize: native tests (ASan+UBSan, leak check on)"
cmake -S . -B "$B/native" -DTEZIP_TESTS=ON -DTEZIP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Release > "$B/configure.log"
cmake --build "$B/native" -j 2 > "$B/build.log" || { cat "$B/build.log"; exit 1; }
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir "$B/native" --output-on-failure --timeout 1800 2>&1 | tee -a "$LOG"

echo "== sanitize: addon (ASan+UBSan) and the mocha suite against it"
npx cmake-js compile --out "$B/addon" --CDTEZIP_SANITIZE=ON > "$B/addon-build.log" 2>&1 || { cat "$B/addon-build.log"; exit 1; }
ADDON="$PWD/$B/addon/Release/tezip.node"
[ -f "$ADDON" ] || { echo "sanitize: $ADDON was not built" >&2; exit 1; }
# The runtimes the addon was linked against (gcc's, or clang's shared ones), preloaded ahead of node.
ASAN_RT=$(ldd "$ADDON" | awk '/libasan/ {print $3}')
UBSAN_RT=$(ldd "$ADDON" | awk '/libubsan/ {print $3}')
[ -n "$ASAN_RT" ] || { echo "sanitize: the addon is not linked against a shared ASan runtime" >&2; exit 1; }
npm run build:ts > "$B/tsc.log" 2>&1 || { cat "$B/tsc.log"; exit 1; }
# Children inherit this environment: node children (the tezip CLI) so run the sanitized addon too, while the
# tests start system programs (sshd, ssh-keygen, pgrep) without the preload (test/helpers/tool-env.ts).
# The outer timeout is a last resort: a test that blocks the event loop would stop mocha's own timeouts.
TEZIP_ADDON="$ADDON" TEZIP_NATIVE_CLI_BIN="$PWD/$B/addon/Release/tezip-cli" LD_PRELOAD="$ASAN_RT${UBSAN_RT:+ $UBSAN_RT}" \
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  timeout --kill-after=60 "${TEZIP_SANITIZE_MOCHA_TIMEOUT:-7200}" npx mocha 2>&1 | tee -a "$LOG"

if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer" "$LOG"; then
  echo "sanitize: sanitizer reports found (see $LOG)" >&2
  exit 1
fi
echo "sanitize: 0 ASan/UBSan reports"
