#!/usr/bin/env bash
# Install QuotaFlow with its development tools into ./.venv and run every check CI runs:
# lint, format, types, the import contract, and the whole test suite (unit,
# integration against a real broker and the real ClickHouse engine, the board in
# headless Chromium, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
QUOTAFLOW_EXTRAS=dev source scripts/venv.sh
source scripts/browser.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy domain streams projections
.venv/bin/lint-imports
# pytest exits 5 when it ran no test; under `set -e` that fails the run, as it should.
if [ "$#" -gt 0 ]; then
    .venv/bin/python -m coverage run -m pytest "$@"
    # Branch coverage of domain/ by its unit tests must stay at 100% (pyproject.toml,
    # [tool.coverage]); the tests that drive the worker run untraced (tests/conftest.py).
    exec .venv/bin/python -m coverage report
fi
# The whole suite in two runs side by side: the unit tests, under coverage, keep one
# core busy, while the tests that drive the worker often wait on the broker and
# ClickHouse. One after the other they took 3:06 + 11:21 of CI's 14:27. The unit
# tests run niced: their CPU goes first to the workers and brokers the others wait on.
scratch=$(mktemp -d)
nice -n 10 .venv/bin/python -m coverage run -m pytest tests/unit -p no:cacheprovider \
    --basetemp "$scratch/tmp" > "$scratch/unit.log" 2>&1 &
unit=$!
trap 'kill "$unit" 2>/dev/null || true; rm -rf "$scratch"' EXIT
status=0
.venv/bin/python -m pytest tests --ignore tests/unit || status=$?
wait "$unit" || status=$?
echo "---------------- the unit tests (run beside the rest, under coverage) ----------------"
cat "$scratch/unit.log"
# Branch coverage of domain/ by its unit tests must stay at 100% (pyproject.toml,
# [tool.coverage]).
.venv/bin/python -m coverage report || status=$?
exit "$status"
