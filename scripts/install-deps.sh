#!/usr/bin/env bash
# Installs the Debian packages warren needs, if any is missing (apt-get; root or sudo).
set -euo pipefail
packages=(liblua5.4-dev libedit-dev librabbitmq-dev libcurl4-openssl-dev zlib1g-dev pkg-config rabbitmq-server
  # devcluster up --hosts: namespaces, bridge, netem/NFQUEUE, nftables, an sshd per host, ssh
  openssh-server openssh-client iproute2 iptables nftables util-linux hostname curl)
# chromium: the headless browser the report.html test renders in (installed without its
# recommends: desktop services a headless run never uses).
headless=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
missing_headless=()
for p in "${headless[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing_headless+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ ${#missing_headless[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]} ${missing_headless[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
[ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
[ ${#missing_headless[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing_headless[@]}"
