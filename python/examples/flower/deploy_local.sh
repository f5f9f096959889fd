#!/usr/bin/env bash
# The example in Flower's deployment runtime on one machine: one SuperLink,
# N SuperNodes (each its own partition), `flwr run` against them; all
# insecure (no TLS, no SuperNode authentication) — for trying, not for use.
#
#   ./deploy_local.sh plaintext 3 2      # aggregation, clients, rounds
#   ./deploy_local.sh secagg 3 2
#   ./deploy_local.sh hekit 3 2
#
# Logs and Flower's state go to $WORK (default /tmp/hekit-flower-deploy).
# Flower 1.42 serves the SuperLink's Fleet, Control and ServerApp runtime
# APIs over HTTP on one port (127.0.0.1:8000); each SuperNode needs its own
# runtime port (--port).
set -euo pipefail

AGG=${1:-plaintext}
N=${2:-3}
ROUNDS=${3:-2}
T=${T:-$((N / 2 + 1))}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
WORK=${WORK:-/tmp/hekit-flower-deploy}
mkdir -p "$WORK/home"

export FLWR_HOME="$WORK/home"
export HEKIT_DIGITS_CSV="$REPO/data/digits.csv"
# hekit.flower from the source tree when hekit is not installed
python -c "import hekit.flower" 2>/dev/null || export PYTHONPATH="$REPO/python${PYTHONPATH:+:$PYTHONPATH}"

cat > "$FLWR_HOME/config.toml" <<EOF
[superlink]
default = "local-deployment"

[superlink.local-deployment]
address = "127.0.0.1:8000"
insecure = true
EOF

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# the app's dependencies are already installed in this environment
flower-superlink --insecure --disable-runtime-dependency-installation >"$WORK/superlink.log" 2>&1 &
PIDS+=($!)
sleep 8
for ((i = 0; i < N; i++)); do
    flower-supernode --insecure --superlink 127.0.0.1:8000 --port $((9100 + i)) \
        --node-config "partition-id=$i num-partitions=$N" >"$WORK/supernode$i.log" 2>&1 &
    PIDS+=($!)
done
sleep 10

cd "$HERE"
flwr run . --stream --run-config \
    "aggregation=\"$AGG\" num-rounds=$ROUNDS num-clients=$N threshold=$T timeout=120.0" \
    2>&1 | tee "$WORK/run-$AGG.log"
