#!/usr/bin/env bash
# The checks CI runs before the tests (and pre-commit runs on every commit): lint and format (ruff), types (mypy),
# layer contracts (import-linter, contracts in pyproject.toml). Exits non-zero on any finding.
#
#   bash packaging/lint.sh          all checks, on the whole tree (after `bash packaging/setup.sh --test`)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.venv/bin"
for tool in ruff mypy lint-imports; do
  [ -x "$BIN/$tool" ] || { echo "error: $BIN/$tool missing; run: bash packaging/setup.sh --test" >&2; exit 2; }
done

status=0
run() {
  local name="$1"; shift
  local start=$SECONDS
  if "$@"; then
    printf '\033[1m[lint]\033[0m %s: ok (%ss)\n' "$name" $((SECONDS - start))
  else
    printf '\033[1m[lint]\033[0m %s: FAILED\n' "$name" >&2
    status=1
  fi
}
run "ruff check" "$BIN/ruff" check --no-fix .
run "ruff format" "$BIN/ruff" format --check .
run "mypy" "$BIN/mypy"
run "import contracts" "$BIN/lint-imports"
exit $status
