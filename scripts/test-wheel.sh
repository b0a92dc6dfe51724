#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtualenv outside the checkout and run it from there
# with production settings: `vimbadmin check --deploy` (warnings fail too), `vimbadmin migrate`
# on a new SQLite file, collectstatic, then gunicorn serving a page and static files.
# Fails if any step fails. Needs the package registry (PyPI) for the build and the dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
python=${PYTHON:-python3}
[ -x .venv/bin/python ] && python=.venv/bin/python

work=$(mktemp -d "${TMPDIR:-/tmp}/vimbadmin-wheel.XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "--- $*"; }

step "building the wheel"
# A stale build/ would put files deleted from the checkout into the wheel.
rm -rf build
"$python" -m pip wheel -q --no-deps -w "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
rm -rf build
wheel=$(ls "$work"/dist/vimbadmin-*.whl)

step "installing $(basename "$wheel") into a fresh virtualenv"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "${wheel}[server]" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

# Nothing from the caller's environment or the checkout: only what an operator would set.
cd "$work"
secret=$("$work/venv/bin/python" -c "import secrets; print(secrets.token_urlsafe(50))")
settings=(
  "PATH=$work/venv/bin:/usr/bin:/bin" "HOME=$work" "LANG=C.UTF-8"
  "SECRET_KEY=$secret"
  "ALLOWED_HOSTS=mail.example.org,127.0.0.1"
  "VIMBADMIN_BASE_URL=https://mail.example.org"
  "DATABASE_URL=sqlite:///$work/vimbadmin.sqlite3"
  "STATIC_ROOT=$work/static"
  "SECURE_SSL_REDIRECT=true"
  "SECURE_HSTS_SECONDS=31536000"
)
production=(env -i "${settings[@]}")

step "the installed code runs, not the checkout's"
"${production[@]}" python - "$checkout" <<'EOF'
import sys
from pathlib import Path

import vimbadmin

where = Path(vimbadmin.__file__).resolve()
assert Path(sys.argv[1]).resolve() not in where.parents, f"imported from the checkout: {where}"
assert (where.parent / "templates" / "base.html").is_file(), "templates missing from the wheel"
assert (where.parent / "static" / "css" / "vimbadmin.css").is_file(), "static files missing"
for language in ("de", "fr", "es", "it", "nl", "pt_BR", "pl"):
    compiled = where.parent / "locale" / language / "LC_MESSAGES" / "django.mo"
    assert compiled.is_file(), f"compiled translations missing from the wheel: {compiled}"
print(f"vimbadmin from {where.parent}")
EOF

step "without SECRET_KEY or DATABASE_URL it stops with one line (no checkout to default to)"
for unset in SECRET_KEY DATABASE_URL; do
  without=()
  for setting in "${settings[@]}"; do [[ $setting == "$unset="* ]] || without+=("$setting"); done
  if out=$(env -i "${without[@]}" vimbadmin check 2>&1); then
    echo "vimbadmin check ran without $unset"; exit 1
  fi
  case "$out" in
    "Configuration error: $unset must be set"*) echo "without $unset: $out" ;;
    *) echo "unexpected answer without $unset: $out"; exit 1 ;;
  esac
done

step "vimbadmin check --deploy"
"${production[@]}" vimbadmin check --deploy --fail-level WARNING

step "vimbadmin migrate on a fresh SQLite file"
"${production[@]}" vimbadmin migrate --no-input -v0
"${production[@]}" vimbadmin schema_check

step "vimbadmin collectstatic"
"${production[@]}" vimbadmin collectstatic --no-input -v0
test -f "$work/static/css/vimbadmin.css"
test -f "$work/static/bootstrap/css/bootstrap.min.css"

step "gunicorn serves pages and static files"
port=$("$work/venv/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"${production[@]}" SECURE_SSL_REDIRECT=false \
  gunicorn vimbadmin.wsgi -w 1 -b "127.0.0.1:$port" --timeout 60 >"$work/gunicorn.log" 2>&1 &
server=$!
"$work/venv/bin/python" - "$port" <<'EOF' || { cat "$work/gunicorn.log"; exit 1; }
import sys
import time
import urllib.request

base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(300):
    try:
        urllib.request.urlopen(base + "/static/css/vimbadmin.css", timeout=5)
        break
    except OSError:
        time.sleep(0.1)
checks = {
    "/accounts/login/": "csrfmiddlewaretoken",
    "/me/login/": "csrfmiddlewaretoken",
    "/static/css/vimbadmin.css": "",
    "/static/bootstrap/css/bootstrap.min.css": "",
}
for path, text in checks.items():
    with urllib.request.urlopen(base + path, timeout=30) as response:
        body = response.read().decode()
        assert response.status == 200, (path, response.status)
        assert text in body, (path, body[:500])
        print(f"GET {path}: {response.status}")
# The compiled catalogues are found once installed: a German browser gets German.
german = urllib.request.Request(base + "/me/login/", headers={"Accept-Language": "de"})
with urllib.request.urlopen(german, timeout=30) as response:
    body = response.read().decode()
    assert '<html lang="de">' in body and "Bei Ihrem Postfach anmelden" in body, body[:500]
    print("GET /me/login/ (Accept-Language: de): German")
EOF

echo "The wheel installs and runs outside the checkout."
