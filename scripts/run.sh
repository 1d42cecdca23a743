#!/usr/bin/env bash
# Install QuotaFlow into ./.venv and run the main job on embedded defaults:
# a Kafka-protocol broker and the ClickHouse engine are started for you, sample deals
# flow, and the board and metrics come up. Ctrl-C stops everything. Extra arguments go
# to `quotaflow run` (see `quotaflow run --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
exec .venv/bin/quotaflow run "$@"
