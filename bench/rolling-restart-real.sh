#!/usr/bin/env bash
# A rolling restart of a real 3-node devcluster: warren's rolling-restart runbook beside a plain
# bash script running the documented sequence (rabbitmq.md section 2) with the same tools, run
# alternately RUNS times each (default 2). Also warren's own overhead: wall time not spent in the
# commands its backend ran (the journal records each command with its duration).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-2}
warren=${WARREN:-.build/release/warren}
dir=$(mktemp -d /tmp/warren-bench-rr.XXXX)
state="$dir/state"
cli=/usr/lib/rabbitmq/bin
export WARREN_STATE="$state" WARREN_RUNBOOKS="$PWD/runbooks"
trap '"$warren" devcluster down --dir "$dir/cluster" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$warren" devcluster up --nodes 3 --base-port 5900 --prefix rr --dir "$dir/cluster" >/dev/null
inv="$dir/cluster/inventory.yaml"
nodes=(rr1@localhost rr2@localhost rr3@localhost)
export HOME="$dir/cluster"   # the devcluster's cookie, for the reference script's CLI calls

reference() {
  for n in "${nodes[@]}"; do
    k=${n#rr}; k=${k%@localhost}
    "$cli/rabbitmq-queues" -q -n "$n" check_if_node_is_quorum_critical >/dev/null
    "$cli/rabbitmq-upgrade" -q -n "$n" drain >/dev/null
    sh "$dir/cluster/node$k/stop.sh" >/dev/null
    sh "$dir/cluster/node$k/start.sh" >/dev/null
    until "$cli/rabbitmq-diagnostics" -q -n "$n" ping >/dev/null 2>&1; do sleep 1; done
    "$cli/rabbitmqctl" -q -n "$n" await_startup >/dev/null
    "$cli/rabbitmq-diagnostics" -q -n "$n" check_running >/dev/null
    "$cli/rabbitmq-diagnostics" -q -n "$n" check_local_alarms >/dev/null
    "$cli/rabbitmq-diagnostics" -q -n "$n" check_port_connectivity >/dev/null
    "$cli/rabbitmq-diagnostics" -q -n "$n" check_virtual_hosts >/dev/null
  done
  "$cli/rabbitmq-queues" -q -n "${nodes[0]}" rebalance quorum >/dev/null
}

now() { date +%s.%N; }
ref=() ; war=() ; over=()
for i in $(seq 1 "$runs"); do
  t0=$(now); reference; t1=$(now)
  ref+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); "$warren" run rolling-restart --inventory "$inv" --yes >/dev/null; t1=$(now)
  wall=$(echo "$t1 - $t0" | bc)
  war+=("$wall")
  journal=$(ls -t "$state"/sessions/*/journal.jsonl | head -1)
  waited=$(python3 -c "
import json,sys
print(sum(e.get('duration',0) for e in map(json.loads, open('$journal')) if e['kind']=='command'))")
  over+=("$(echo "scale=4; ($wall - $waited) / $wall * 100" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-58s %-16s\n' "rolling restart, 3 real nodes, bash reference (median of $runs)" "$(printf '%.1f s' "$(median "${ref[@]}")")"
printf '%-58s %-16s target <= reference\n' "rolling restart, 3 real nodes, warren (median of $runs)" "$(printf '%.1f s' "$(median "${war[@]}")")"
printf '%-58s %-16s target <= 5 %%\n' "warren's own share of its wall time (median)" "$(printf '%.1f %%' "$(median "${over[@]}")")"
