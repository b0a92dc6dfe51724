#!/usr/bin/env bash
# Create .venv and install the project with every extra (idempotent, quick when up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.installed-$(cat pyproject.toml setup.py | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  mkdir -p var
  echo "Installing dependencies into .venv (the first run takes a minute)"
  .venv/bin/pip install -q --upgrade pip >var/pip.log 2>&1 || { cat var/pip.log; exit 1; }
  .venv/bin/pip install -q -e ".[postgresql,mysql,server,test,dev]" >>var/pip.log 2>&1 || { cat var/pip.log; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The translations, compiled for the app, the tests and `make run` (never committed).
scripts/compilemessages.sh
