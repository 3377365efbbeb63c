#!/usr/bin/env bash
# Runs every benchmark of bench/README.md on this machine and prints the figures.
# The real-RabbitMQ suite needs rabbitmq-server installed; it starts and stops its own devcluster.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product warren
swift build -c release --product warren-bench
echo "== shell start-up (issue: foundation)"
python3 bench/startup.py .build/release/warren 21
echo "== Lua host functions"
.build/release/warren-bench lua
echo "== engine, beside ansible-playbook"
.build/release/warren-bench engine "${WARREN_STATE:-$HOME/.local/state/warren}/bench-tmp"
bench/ansible-noop.sh
echo "== recording overhead"
.build/release/warren-bench recording
echo "== simulator"
.build/release/warren-bench simulator
.build/release/warren-bench view
echo "== sweeps"
.build/release/warren-bench sweep
echo "== reports"
.build/release/warren-bench report "${WARREN_STATE:-$HOME/.local/state/warren}/bench-report-tmp"
if [ -x /usr/lib/rabbitmq/bin/rabbitmqctl ] && [ "${SKIP_RABBITMQ:-}" != 1 ]; then
  echo "== real RabbitMQ (devcluster on loopback)"
  .build/release/warren-bench rabbitmq
  bench/rolling-restart-real.sh
fi
