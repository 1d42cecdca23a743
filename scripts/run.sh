#!/usr/bin/env bash
# Install QuotaFlow into ./.venv and run the main job on embedded defaults:
# a Kafka-protocol broker and the ClickHouse engine are started for you, a sample
# sales year of a whole organisation flows in, and the board and metrics come up.
# Ctrl-C stops everything. Extra arguments go to `quotaflow run` (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
exec .venv/bin/quotaflow run "$@"
