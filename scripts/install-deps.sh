#!/usr/bin/env bash
# Installs the Debian packages warren needs, if any is missing (apt-get; root or sudo).
set -euo pipefail
packages=(liblua5.4-dev libedit-dev librabbitmq-dev libcurl4-openssl-dev pkg-config rabbitmq-server)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
