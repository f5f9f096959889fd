#!/usr/bin/env bash
# Load test of the networked HE-MPC binary (`hekit-mpc`): a coordinator and
# PARTIES party processes on loopback (gRPC over mutual TLS), each party
# submitting LEN floats per round for ROUNDS rounds (threshold CKKS, t =
# THRESHOLD), every round ending in threshold decryption of the sum. Prints
# key-generation and per-round latency and bytes; the whole run is bounded by
# TIME_LIMIT seconds (every process runs under `timeout`).
#
#   benches/mpc_load.sh                      # 16 parties x 100,000 floats, 3 rounds
#   PARTIES=8 LEN=10000 ROUNDS=2 benches/mpc_load.sh
#
# Environment: PARTIES (16), THRESHOLD (PARTIES/2+1), LEN (100000), ROUNDS (3),
# TIME_LIMIT (1800 s), PARTY_THREADS (rayon threads per party, 1),
# CARGO_TARGET_DIR (target), KEEP=1 keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/.."

PARTIES=${PARTIES:-16}
THRESHOLD=${THRESHOLD:-$((PARTIES / 2 + 1))}
LEN=${LEN:-100000}
ROUNDS=${ROUNDS:-3}
TIME_LIMIT=${TIME_LIMIT:-1800}
PARTY_THREADS=${PARTY_THREADS:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

cargo build --release -p hekit-mpc
BIN=$CARGO_TARGET_DIR/release/hekit-mpc
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hekit-mpc-load.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${KEEP:-0}" == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$BIN" gen-certs --out "$WORK/certs" --parties "$PARTIES" >/dev/null
C=$WORK/certs
START=$(date +%s.%N)
timeout "$TIME_LIMIT" "$BIN" coordinator --listen 127.0.0.1:0 --port-file "$WORK/port" \
    --ca "$C/ca.pem" --cert "$C/coordinator.pem" --key "$C/coordinator.key" \
    --state-dir "$WORK/state" --summary "$WORK/summary.jsonl" \
    --parties "$PARTIES" --threshold "$THRESHOLD" --rounds "$ROUNDS" --len "$LEN" \
    --round-timeout 600 --phase-timeout 600 --join-timeout 120 \
    >"$WORK/coordinator.log" 2>&1 &
COORD=$!
PIDS+=("$COORD")
for _ in $(seq 200); do [[ -s "$WORK/port" ]] && break; sleep 0.05; done
PORT=$(sed 's/.*://' "$WORK/port")
for i in $(seq "$PARTIES"); do
    RAYON_NUM_THREADS=$PARTY_THREADS timeout "$TIME_LIMIT" "$BIN" party --id "$i" \
        --coordinator "https://localhost:$PORT" \
        --ca "$C/ca.pem" --cert "$C/party-$i.pem" --key "$C/party-$i.key" \
        --input-seed 1 --reconnect-timeout 60 >"$WORK/party-$i.log" 2>&1 &
    PIDS+=("$!")
done

RC=0
wait "$COORD" || RC=$?
END=$(date +%s.%N)

field() { grep -o "\"$1\":[^,}]*" <<<"$2" | head -1 | cut -d: -f2; }
mb() { awk -v x="$1" 'BEGIN { printf "%.1f", x / 1e6 }'; }
echo
echo "hekit-mpc load test: $PARTIES parties x $LEN floats, t = $THRESHOLD, $ROUNDS rounds (threshold CKKS, N = 8192)"
echo "machine: $(nproc) cores; party rayon threads: $PARTY_THREADS"
while read -r line; do
    if grep -q '"keygen_secs"' <<<"$line"; then
        printf 'key generation : %7.2f s   in %6s MB   out %6s MB\n' \
            "$(field keygen_secs "$line")" \
            "$(mb "$(field bytes_in "$line")")" \
            "$(mb "$(field bytes_out "$line")")"
    elif grep -q '"round"' <<<"$line"; then
        printf 'round %-8s : %7.2f s (collect %6.2f s, decrypt %5.2f s)   in %6s MB   out %6s MB   contributors %s\n' \
            "$(field round "$line")" "$(field secs "$line")" "$(field collect_secs "$line")" \
            "$(field decrypt_secs "$line")" \
            "$(mb "$(field bytes_in "$line")")" \
            "$(mb "$(field bytes_out "$line")")" \
            "$(grep -o '"contributors":\[[0-9,]*\]' <<<"$line" | tr -cd ',' | wc -c | awk '{print $1+1}')"
    elif grep -q '"done":true' <<<"$line"; then
        printf 'session        : %7.2f s (coordinator), %.2f s wall with process start-up\n' \
            "$(field secs "$line")" "$(awk -v a="$END" -v b="$START" 'BEGIN { print a - b }')"
    fi
done <"$WORK/summary.jsonl"
if [[ $RC -ne 0 ]]; then
    echo "coordinator failed (exit $RC):"
    tail -5 "$WORK/coordinator.log"
    exit "$RC"
fi
