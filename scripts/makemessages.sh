#!/usr/bin/env bash
# Extract every marked string into the catalogues of locale/ (README, "Languages").
# Without locations (file:line), so that a catalogue changes only when a string does.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
langs=()
for dir in locale/*/LC_MESSAGES; do langs+=(-l "$(basename "$(dirname "$dir")")"); done
[ $# -gt 0 ] && { langs=(); for l in "$@"; do langs+=(-l "$l"); done; }
"$PY" manage.py makemessages "${langs[@]}" --no-location --no-obsolete \
  -i "tests/*" -i "bench/*" -i "contrib/*" -i "scripts/*" -i "docs/*" -i "staticfiles/*" \
  -i "node_modules/*" -i "var/*" -i "build/*" -i "dist/*"
