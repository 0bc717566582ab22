#!/usr/bin/env bash
# Installs the Debian packages Liaison's build and tests need, when they are missing.
# Safe to run again: it does nothing when everything is there.
set -euo pipefail

# nodejs/npm and chromium: the embed tests' identity providers (tests/js) and headless browser.
packages=(pkg-config libssl-dev libxml2-dev libxmlsec1-dev libclang-dev clang postgresql openssl chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "==> installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
