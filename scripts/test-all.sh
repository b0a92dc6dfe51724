#!/usr/bin/env bash
# Set up everything and run the whole test suite: the linters and the installed wheel, SQLite,
# PostgreSQL and MariaDB, then the Postfix/Dovecot integration tests on PostgreSQL and MariaDB,
# then the browser tests.
# TEST_ENGINES="sqlite postgresql mysql" limits the engines; extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh || exit 1
scripts/setup-venv.sh || exit 1
scripts/start-databases.sh || exit 1
. .venv/bin/activate

ENGINES=${TEST_ENGINES:-"sqlite postgresql mysql"}
RUN_ID="${RUN_ID:-$$}"
failed=()

url_for() {
  case "$1" in
    sqlite) echo "" ;;
    postgresql) echo "postgresql://root@127.0.0.1:5432/vimb_test_${RUN_ID}" ;;
    mysql) echo "mysql://root@127.0.0.1:3306/vimb_test_${RUN_ID}" ;;
  esac
}

run() {  # label, then the command
  local label=$1; shift
  echo
  echo "=== ${label} ==="
  if ! "$@"; then failed+=("$label"); fi
}

# ruff, the import-linter layers contract and mypy against its baseline (the Makefile's lint).
run "lint (ruff, import-linter, mypy)" make lint

# The wheel, installed into a fresh virtualenv outside the checkout: check --deploy and migrate.
run "wheel installed outside the checkout" scripts/test-wheel.sh

for engine in $ENGINES; do
  run "suite on ${engine}" env DATABASE_URL="$(url_for "$engine")" \
    DATABASE_TEST_NAME="test_vimb_${RUN_ID}_${engine}" \
    python -m pytest -m "not mailstack and not browser" --create-db -p no:cacheprovider "$@"
done

if [ -d tests/integration ]; then
  for engine in $ENGINES; do
    [ "$engine" = sqlite ] && continue
    run "Postfix and Dovecot on ${engine}" env DATABASE_URL="$(url_for "$engine")" \
      DATABASE_TEST_NAME="test_vimb_${RUN_ID}_mail_${engine}" \
      python -m pytest tests/integration -m mailstack --create-db -p no:cacheprovider "$@"
  done
fi

if [ -d tests/browser ]; then
  # axe-core (accessibility checks) comes from the npm registry into a git-ignored cache.
  [ -f .cache/axe/node_modules/axe-core/axe.min.js ] || \
    npm install --prefix .cache/axe --no-save --no-audit --no-fund axe-core@4.14.1 >/dev/null
  run "browser (chromium)" env DATABASE_TEST_NAME="test_vimb_${RUN_ID}_browser" \
    python -m pytest tests/browser -m browser -p no:cacheprovider "$@"
fi

echo
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "All test runs passed (engines: ${ENGINES})."
