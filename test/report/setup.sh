#!/usr/bin/env bash
# Installs what the browser test of the HTML report needs: Debian's Chromium.
# The test drives it over the DevTools protocol, so no chromedriver is needed.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
	chromium --version
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "chromium is missing and installing it needs root: run 'apt-get install chromium' first" >&2
	exit 1
fi

echo "installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
