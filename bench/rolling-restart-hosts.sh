#!/usr/bin/env bash
# A rolling restart of a 3-host devcluster (`warren devcluster up --hosts 3`: a network namespace,
# an sshd and rabbit@nK per host; start and stop over ssh), measured side by side in one run,
# alternated RUNS times (default 3), from the bastion:
#   floor      the same ssh stop and start commands, back to back, nothing else
#   bash       the documented sequence (rabbitmq.md section 2) with the same tools, polling every 0.5 s
#   warren     `warren run rolling-restart --yes`; its phases from its journal (each command's duration)
# Prints a per-phase table (medians, summed over the three nodes). Needs root (namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=/usr/lib/rabbitmq/bin

if [ "${1:-}" = "--inside" ]; then
  # In the bastion, with the inventory's environment (devcluster exec).
  dir=$2 runs=$3 warren=$4 out=$5
  ssh_=(ssh -F "$dir/ssh/config")
  nodes=(n1 n2 n3)
  now() { date +%s.%N; }
  add() { echo "${1:-0} + $2" | bc; }
  declare -A F B
  floor() {
    local h t0 t1 t2
    for h in "${nodes[@]}"; do
      t0=$(now); "${ssh_[@]}" "$h" rabbitmq-service stop >/dev/null; t1=$(now)
      "${ssh_[@]}" "$h" rabbitmq-service start >/dev/null; t2=$(now)
      F[stop]=$(add "${F[stop]:-}" "$(echo "$t1 - $t0" | bc)"); F[start]=$(add "${F[start]:-}" "$(echo "$t2 - $t1" | bc)")
    done
  }
  reference() {
    local h n t0 t1 t2 t3 t4 t5
    for h in "${nodes[@]}"; do
      n=rabbit@$h
      t0=$(now)
      "$cli/rabbitmq-queues" -q -n "$n" check_if_node_is_quorum_critical >/dev/null
      "$cli/rabbitmq-upgrade" -q -n "$n" drain >/dev/null 2>&1
      t1=$(now); "${ssh_[@]}" "$h" rabbitmq-service stop >/dev/null
      t2=$(now); "${ssh_[@]}" "$h" rabbitmq-service start >/dev/null
      t3=$(now)
      until "$cli/rabbitmq-diagnostics" -q -n "$n" ping >/dev/null 2>&1; do sleep 0.5; done
      "$cli/rabbitmqctl" -q -n "$n" await_startup >/dev/null
      t4=$(now)
      "$cli/rabbitmq-diagnostics" -q -n "$n" check_running >/dev/null
      "$cli/rabbitmq-diagnostics" -q -n "$n" check_local_alarms >/dev/null
      "$cli/rabbitmq-diagnostics" -q -n "$n" check_port_connectivity >/dev/null
      "$cli/rabbitmq-diagnostics" -q -n "$n" check_virtual_hosts >/dev/null
      t5=$(now)
      B[drain]=$(add "${B[drain]:-}" "$(echo "$t1 - $t0" | bc)"); B[stop]=$(add "${B[stop]:-}" "$(echo "$t2 - $t1" | bc)")
      B[start]=$(add "${B[start]:-}" "$(echo "$t3 - $t2" | bc)"); B[await]=$(add "${B[await]:-}" "$(echo "$t4 - $t3" | bc)")
      B[checks]=$(add "${B[checks]:-}" "$(echo "$t5 - $t4" | bc)")
    done
    t0=$(now); "$cli/rabbitmq-queues" -q -n rabbit@n1 rebalance quorum >/dev/null; t1=$(now)
    B[rebalance]=$(echo "$t1 - $t0" | bc)
  }
  : >"$out"
  for i in $(seq 1 "$runs"); do
    F=(); B=()
    s0=$(now); floor; s1=$(now)
    echo "floor total $(echo "$s1 - $s0" | bc)" >>"$out"
    for k in "${!F[@]}"; do echo "floor $k ${F[$k]}" >>"$out"; done
    s0=$(now); reference; s1=$(now)
    echo "bash total $(echo "$s1 - $s0" | bc)" >>"$out"
    for k in "${!B[@]}"; do echo "bash $k ${B[$k]}" >>"$out"; done
    s0=$(now); "$warren" run rolling-restart --inventory "$dir/inventory.yaml" --yes </dev/null >/dev/null; s1=$(now)
    echo "warren total $(echo "$s1 - $s0" | bc)" >>"$out"
    journal=$(ls -t "$WARREN_STATE"/sessions/*/journal.jsonl | head -1)
    python3 - "$journal" >>"$out" <<'EOF'
import json, sys
phases = {"drain": 0.0, "stop": 0.0, "start": 0.0, "await": 0.0, "rebalance": 0.0, "other commands": 0.0}
for e in map(json.loads, open(sys.argv[1])):
    if e.get("kind") != "command": continue
    v, d = e.get("value", ""), e.get("duration", 0)
    if " drain" in v: phases["drain"] += d
    elif "rabbitmq-service stop" in v: phases["stop"] += d
    elif "rabbitmq-service start" in v: phases["start"] += d
    elif "await_startup" in v: phases["await"] += d
    elif "rebalance" in v: phases["rebalance"] += d
    else: phases["other commands"] += d
for k, d in phases.items(): print(f"warren {k} {d}")
EOF
  done
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "needs root: builds network namespaces (warren devcluster up --hosts)" >&2; exit 2; }
runs=${RUNS:-3}
warren=$(realpath "${WARREN:-.build/release/warren}")
work=$(mktemp -d /tmp/warren-bench-hosts.XXXX)
export WARREN_STATE="$work/state" WARREN_RUNBOOKS="$PWD/runbooks"
trap '"$warren" devcluster down --dir "$work/cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$warren" devcluster up --hosts 3 --dir "$work/cluster" >/dev/null
"$warren" devcluster exec --dir "$work/cluster" -- bash "$PWD/bench/rolling-restart-hosts.sh" --inside "$work/cluster" "$runs" "$warren" "$work/times"

python3 - "$work/times" "$runs" <<'EOF'
import sys, statistics
from collections import defaultdict
values = defaultdict(list)
for line in open(sys.argv[1]):
    who, *phase, value = line.split()
    values[(who, " ".join(phase))].append(float(value))
med = lambda who, phase: statistics.median(values[(who, phase)]) if values[(who, phase)] else None
fmt = lambda v: "" if v is None else f"{v:.1f} s"
rows = [("drain (+ quorum-critical check)", "drain"), ("stop command (ssh)", "stop"), ("start command (ssh, returns once booted)", "start"),
        ("await startup (bash: ping every 0.5 s, then await_startup)", "await"), ("health checks", "checks"),
        ("other commands (warren: gates' HTTP/CLI reads)", "other commands"), ("rebalance", "rebalance"), ("total wall time", "total")]
print(f"rolling restart of 3 hosts (ssh start/stop), medians of {sys.argv[2]} alternated runs, summed over the nodes")
print(f"| phase | floor | bash (0.5 s polls) | warren |\n|---|---|---|---|")
for label, key in rows:
    print(f"| {label} | {fmt(med('floor', key))} | {fmt(med('bash', key))} | {fmt(med('warren', key))} |")
f, b, w = med("floor", "total"), med("bash", "total"), med("warren", "total")
print(f"\nwarren / bash = {w / b:.2f} (target <= 0.95); warren / floor = {w / f:.2f} (target <= 1.10)")
EOF
