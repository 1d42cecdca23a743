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
.venv/bin/python -m coverage run -m pytest "$@"
# Branch coverage of domain/ by its unit tests must stay at 100% (pyproject.toml,
# [tool.coverage]); the tests that drive the worker run untraced (tests/conftest.py).
.venv/bin/python -m coverage report
