#!/usr/bin/env bash
# Install the Debian packages listed in apt-packages.txt that are missing (root needed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t want < <(grep -v '^\s*#' "$here/apt-packages.txt" | grep -v '^\s*$')
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v kpt >/dev/null || { echo "install-deps: kpt is not on PATH; install kpt 1.0.0-beta.x (https://kpt.dev/installation/)" >&2; exit 1; }
# ansible-test sanity --venv wants pip's bootstrap script from the internet; give it ours.
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp "$here/get_pip_bootstrap.py" "$cache/get_pip_24_2.py"
