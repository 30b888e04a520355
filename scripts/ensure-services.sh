#!/usr/bin/env bash
# The server half's tests run real Redis and PostgreSQL servers (started by scripts/services.mjs).
# Installs Debian's packages on a fresh machine when run as root; otherwise says what is missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ${need[*]} for the server tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  exit 0
fi
echo "Server tests need ${need[*]}: run 'sudo apt-get install -y ${need[*]}'." >&2
exit 1
