#!/usr/bin/env bash
# Set up watchlake on a fresh machine: Python venv and packages, system packages, JVM jars.
# Re-running is cheap: each step skips what is already in place.
#   scripts/setup.sh           what the pipeline needs
#   scripts/setup.sh --test    plus the test tools (pytest, moto, duckdb, ruff, Selenium with Debian's Chromium),
#                              Airflow (the suite tests the DAGs) and the Compose validator (Go: docker/compose-check)
#   scripts/setup.sh --airflow plus Airflow 3 and the Amazon provider (the DAGs, `watchlake airflow`)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
airflow=""
for arg in "$@"; do
  case "$arg" in
    --test) extras="[test]"; airflow=1 ;;
    --airflow) airflow=1 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

python_bin="${PYTHON:-python3}"
"$python_bin" - <<'PY' || { echo "setup.sh: watchlake needs Python 3.11 or 3.12 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
import sys
sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)
PY
# System packages: Java for Spark and Kafka, PostgreSQL for the local warehouse, Maven for the jars.
need_apt=()
command -v javac >/dev/null || need_apt+=(openjdk-17-jdk-headless)  # javac builds jvm/functions
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v mvn >/dev/null || need_apt+=(maven)
if [ -n "$extras" ]; then  # the browser tests of the web pages drive Debian's Chromium with Selenium
  command -v chromium >/dev/null || need_apt+=(chromium)
  command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
fi
if ((${#need_apt[@]})); then
  say "installing system packages: ${need_apt[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])' || { echo "setup.sh: Spark 4 needs Java 17 or newer on PATH" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment in .venv"
  "$python_bin" -m venv .venv
fi
say "installing Python packages (watchlake${extras})"
.venv/bin/python -m pip install -q --upgrade pip
if [ -n "$airflow" ]; then
  # Airflow pins much of what it runs on; its constraints files are out of reach, so the whole environment (watchlake,
  # the test tools, Airflow, the Amazon provider) comes from the lock compiled with uv (regenerate: the command at the
  # top of requirements/airflow.lock). Hashes are checked; watchlake itself is installed editable on top.
  say "installing the locked environment (requirements/airflow.lock: watchlake, test tools, Airflow)"
  .venv/bin/python -m pip install -q "uv==0.13.9"
  VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --require-hashes -r requirements/airflow.lock
  VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --no-deps -e .
  VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip check
else
  .venv/bin/python -m pip install -q -e ".${extras}"
fi

if [ -x scripts/fetch-jars.sh ]; then
  say "fetching JVM jars (Kafka broker, Spark Kafka connector, JDBC driver)"
  scripts/fetch-jars.sh
  # Spark's classes stored once for the default local settings: every later session starts sooner (~1 min, once).
  say "building the JVM class archive (watchlake.jvm_archive_builder)"
  .venv/bin/python -m watchlake.jvm_archive_builder || echo "setup: no JVM class archive (sessions start without it, only slower)" >&2
fi
if [ -n "$extras" ]; then  # the tests validate docker-compose.yml with a real Compose loader, no engine needed
  say "building the Compose validator (docker/compose-check, Go)"
  docker/compose-check/build.sh
fi
say "ready: activate with '. .venv/bin/activate', then run 'watchlake --help'"
