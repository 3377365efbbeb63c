#!/usr/bin/env bash
# The reference for `warren-bench engine`: 1,000 no-op (debug) tasks with ansible-playbook on
# localhost, median of 3. Installs ansible-core from PyPI into a virtualenv the first time.
set -euo pipefail
venv=${ANSIBLE_VENV:-/tmp/warren-bench-ansible}
[ -x "$venv/bin/ansible-playbook" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q ansible-core; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
  echo "- hosts: localhost"
  echo "  connection: local"
  echo "  gather_facts: false"
  echo "  tasks:"
  for i in $(seq 1 1000); do echo "    - debug: { msg: 'step $i' }"; done
} > "$dir/noop.yml"
times=()
for _ in 1 2 3; do
  start=$(date +%s.%N)
  ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    "$venv/bin/ansible-playbook" -i localhost, "$dir/noop.yml" >/dev/null
  times+=("$(echo "$(date +%s.%N) - $start" | bc)")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
printf '%-58s %-16s reference\n' "1,000 no-op tasks, ansible-playbook $("$venv/bin/ansible-playbook" --version 2>/dev/null | head -1 | grep -o 'core [0-9.]*') (median of 3)" "$(printf '%.3f s' "$median")"
