#!/usr/bin/env bash
# Make sure the local PostgreSQL and MariaDB servers answer on loopback (start them if not).
set -euo pipefail

wait_for() {  # name, command
  for _ in $(seq 1 60); do
    if eval "$2" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "$1 did not start" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  echo "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
fi
wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432"
# Tests connect as role root over loopback; create it where a fresh cluster lacks it.
if ! psql -h 127.0.0.1 -U root -d postgres -c 'select 1' >/dev/null 2>&1; then
  su postgres -c "psql -qc \"CREATE ROLE root SUPERUSER LOGIN\"" || true
fi

if ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
  echo "Starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
fi
wait_for MariaDB "mysqladmin -h 127.0.0.1 -uroot ping"
