#!/usr/bin/env bash
# Installs Debian's Chromium for the status page's browser test (test/src/ui/status-page.test.ts),
# which drives it with playwright-core at /usr/bin/chromium. Idempotent: does nothing when
# /usr/bin/chromium is already there. No browser download from anywhere but the Debian mirror.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "install-browser: /usr/bin/chromium missing; installing Debian package chromium"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

if [ ! -x /usr/bin/chromium ]; then
  echo "install-browser: the chromium package did not install /usr/bin/chromium" >&2
  exit 1
fi
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
