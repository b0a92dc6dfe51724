#!/usr/bin/env bash
# Install the Debian packages the app, its tests and its benchmarks need (only those missing).
# Needs root (or sudo); does nothing when everything is there already.
set -euo pipefail

PACKAGES=(
  python3-venv python3-dev build-essential pkg-config libpq-dev libmariadb-dev
  postgresql mariadb-server
  postfixadmin php-cli php-pgsql php-mysql php-sqlite3
  postfix postfix-pgsql postfix-mysql
  dovecot-core dovecot-imapd dovecot-lmtpd dovecot-pgsql dovecot-mysql
  chromium fonts-dejavu-core fail2ban
  # msgfmt compiles the translations (locale/) in the build; xgettext extracts them.
  gettext
  # Postfix Admin's own vacation.pl, run by the interop test of the auto-responder.
  libmime-encwords-perl libemail-valid-perl liblog-log4perl-perl liblog-dispatch-perl
  libdbd-pg-perl libdbd-mysql-perl libemail-sender-perl libemail-simple-perl libtry-tiny-perl
  libnet-dns-perl
)
# npm fetches axe-core for the accessibility checks; a Node.js install may bring its own npm,
# which Debian's npm package would conflict with.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing Debian packages: ${missing[*]}"
# postfix asks debconf questions; a "No configuration" answer keeps it from touching the host.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
