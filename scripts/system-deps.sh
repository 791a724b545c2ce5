#!/usr/bin/env bash
# Install the system packages the tests and the demo need (Debian/Ubuntu):
# PostgreSQL server and client, OpenSSH server (test hosts), iproute2, curl,
# Chromium + chromedriver and npm (the documentation site's browser test).
# Only installs what is missing; needs root (or sudo) when something is.
set -euo pipefail
need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
# The health-check tests make their own CA and server certificate (tests/run/test_health_checks.py).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The benchmarks' peak memory of each command (benchmarks/measure.py).
[ -x /usr/bin/time ] || need+=(time)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
# The SQLite migration (PROC-BACKEND-011) and its tests and Molecule drills.
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
# The site's browser test (tests/site/test_browser.py): Debian's headless
# Chromium and its chromedriver; npm vendors Mermaid (scripts/site-assets.sh).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
