#!/usr/bin/env bash
# One entry point for a fresh machine: creates .venv, installs what the task needs, runs it.
#   ./dev.sh demo [ARGS]   run the whole job on the bundled demo corpus (no network, no ../shared)
#   ./dev.sh test [ARGS]   install the test extras and run the full test suite (ARGS go to pytest)
#   ./dev.sh shell         print the venv's activate path
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

die() { echo "dev.sh: $*" >&2; exit 1; }

pick_python() {
  for c in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  die "Python 3.11 or newer is needed (none found on PATH; set PYTHON=/path/to/python3.11)"
}

make_venv() {
  [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1 && return 0
  local py; py=$(pick_python)
  rm -rf .venv
  if "$py" -m venv .venv 2>/dev/null; then return 0; fi
  # Debian ships venv without ensurepip unless python3-venv is installed.
  rm -rf .venv
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "dev.sh: installing Debian's python3-venv ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    "$py" -m venv .venv && return 0
    rm -rf .venv
  fi
  # Last resort: a venv without pip, then pip's own wheel from PyPI bootstraps itself.
  "$py" -m venv --without-pip .venv || die "could not create a virtual environment"
  .venv/bin/python - <<'PY'
import json, os, subprocess, sys, tempfile, urllib.request
meta = json.load(urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60))
url = next(f["url"] for f in meta["urls"] if f["filename"].endswith(".whl"))
whl = os.path.join(tempfile.mkdtemp(), url.rsplit("/", 1)[1])
urllib.request.urlretrieve(url, whl)
subprocess.check_call([sys.executable, os.path.join(whl, "pip"), "install", "-q", whl])
PY
}

install() {  # install the package (+ extras) once per pyproject.toml version
  local extras=$1 stamp=".venv/.installed-${1:-core}"
  local want; want=$(sha1sum pyproject.toml | cut -c1-40)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c 'import extractor' 2>/dev/null; then
    return 0
  fi
  echo "dev.sh: installing extractor${extras:+[$extras]} into .venv (first run takes a few minutes) ..." >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  echo "$want" > "$stamp"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
  demo)  make_venv; install "";     exec .venv/bin/extractor demo "$@" ;;
  test)  make_venv; install "test"; exec .venv/bin/python -m pytest "$@" ;;
  shell) make_venv; install "dev";  echo "source $(pwd)/.venv/bin/activate" ;;
  *) echo "usage: ./dev.sh demo|test|shell [ARGS]" >&2; exit 2 ;;
esac
