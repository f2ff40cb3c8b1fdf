#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser journeys (Playwright's own
# browser download cannot work here), CJK fonts so Chinese pages render, and
# bubblewrap for the lab sandbox, ApacheBench for `make bench`. Installs what is missing when run as root.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v ab >/dev/null || missing+=(apache2-utils)  # the load generator of bench.page_load
fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
