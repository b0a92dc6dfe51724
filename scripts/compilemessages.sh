#!/usr/bin/env bash
# Compile the translations (locale/*/LC_MESSAGES/django.po -> .mo) with GNU msgfmt (--check:
# format strings and plural forms must match the English). Only a catalogue newer than its .mo
# is compiled. The .mo files are build products, never committed; the wheel compiles its own
# (setup.py). Needs gettext (scripts/system-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v msgfmt >/dev/null || { echo "msgfmt not found: install gettext (scripts/system-deps.sh)" >&2; exit 1; }
for po in locale/*/LC_MESSAGES/*.po; do
  mo=${po%.po}.mo
  if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    # A temporary file per process: two runs at once never see a half-written catalogue.
    msgfmt --check -o "$mo.$$.tmp" "$po" && mv "$mo.$$.tmp" "$mo"
  fi
done
