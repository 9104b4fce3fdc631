# tests/lib/cli.sh: what every command-line test script shares. Source it first:
#   . "$(dirname "$0")/../lib/cli.sh" NAME
# It cd's to the repository root, sets D (the binary) and T (a temp dir removed at exit),
# and defines ok/bad/check/expect_error; the script ends with `finish`.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D=${DKMC_BIN:-./darknet}
CLI_NAME=${1:-cli}
T=$(mktemp -d "/tmp/dkmc_${CLI_NAME}.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
ok()   { echo "ok   $1"; }
bad()  { echo "FAIL $1"; fails=$((fails+1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# expect_error NAME NEEDLE CMD...: non-zero exit without a signal, exactly one line on
# stderr, and that line contains NEEDLE
expect_error() {
    local name=$1 needle=$2; shift 2
    local out rc
    out=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && printf '%s' "$out" | grep -qF -- "$needle"; then ok "$name"
    else bad "$name (rc=$rc, stderr: $out)"; fi
}
# skip NAME WHY: a check that cannot run here (counted as skipped by tests/run.sh)
skip() { echo "skip $1: $2"; }
finish() { echo "$CLI_NAME.sh: $fails failure(s)"; [ $fails -eq 0 ]; }
