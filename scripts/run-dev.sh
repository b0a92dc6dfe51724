#!/usr/bin/env bash
# Set up and run the app on 127.0.0.1:8000 with SQLite, creating a demo super admin on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
# The packaging files' hash, as in scripts/setup-venv.sh, whose full install also counts.
hash=$(cat pyproject.toml setup.py | sha1sum | cut -c1-12)
stamp=.venv/.run-installed-$hash
if [ ! -f "$stamp" ] && [ ! -f .venv/.installed-"$hash" ]; then
  mkdir -p var
  echo "Installing dependencies into .venv (the first run takes a minute)"
  .venv/bin/pip install -q --upgrade pip >var/pip.log 2>&1 || { cat var/pip.log; exit 1; }
  .venv/bin/pip install -q -e . >>var/pip.log 2>&1 || { cat var/pip.log; exit 1; }
  touch "$stamp"
fi
scripts/compilemessages.sh
. .venv/bin/activate
# Plain http on 127.0.0.1: cookies cannot be "secure" here. Production keeps the default.
export SECURE_COOKIES="${SECURE_COOKIES:-false}"
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.console.EmailBackend}"
# Reset links in mails point here (never at the request's Host header).
export VIMBADMIN_BASE_URL="${VIMBADMIN_BASE_URL:-http://127.0.0.1:${PORT:-8000}}"
python manage.py migrate --no-input -v0
mkdir -p var
login_file=var/demo-login.txt
if [ ! -s "$login_file" ]; then
  password=$(python -c "from mail.passwords import generate_password; print(generate_password())")
  VIMBADMIN_ADMIN_PASSWORD="$password" python manage.py createsuperadmin \
    --username admin@example.org --no-input >/dev/null
  umask 077
  printf 'admin@example.org\n%s\n' "$password" > "$login_file"
fi
echo
echo "ViMbAdmin runs at http://127.0.0.1:${PORT:-8000}/"
echo "Log in as $(sed -n 1p "$login_file") with password $(sed -n 2p "$login_file")"
echo
exec python manage.py runserver "127.0.0.1:${PORT:-8000}"
