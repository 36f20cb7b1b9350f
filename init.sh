#!/usr/bin/env bash
# Bulk load: CASAS smartwatch archives -> the lake's staging area (local folder, or s3://<bucket>/staging/ with
# WATCHLAKE_ENV=aws). Sets the project up first if needed, then runs `watchlake ingest` with your arguments:
#   ./init.sh                      download group1-3.zip (resumable), unpack, stage, write the manifest
#   ./init.sh --source sample      offline: stage a generated sample in the same format
#   ./init.sh --source DIR|ZIP     stage archives or sw1.pN.csv files you already have
# With WATCHLAKE_ENV=aws it then uploads the Spark scripts (spark_jobs/) to the bucket's code prefix
# (`watchlake aws deploy --scripts-only`; the whole bundle and the cluster: `watchlake aws deploy`).
# Re-running copies nothing that is already staged unchanged.
# When a Docker engine answers (`docker info`), it also builds the image of docker-compose.yml (docker compose build).
set -euo pipefail
cd "$(dirname "$0")"

case "${1:-}" in
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; echo; ;;
esac
if [ ! -x .venv/bin/watchlake ]; then
  scripts/setup.sh
fi
# The streaming stack's image, for `docker compose up`; without an engine the local pipeline needs none.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "init.sh: a Docker engine answers: building the project image (docker compose build)"
  docker compose build
else
  echo "init.sh: no Docker engine answers (docker info failed or no docker): skipping docker compose build"
fi
.venv/bin/watchlake ingest "$@"
case "${1:-}" in -h|--help) exit 0 ;; esac
if [ "${WATCHLAKE_ENV:-local}" = "aws" ]; then
  .venv/bin/watchlake aws deploy --scripts-only
fi
