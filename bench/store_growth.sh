#!/usr/bin/env bash
# Store bytes per window: one camera plays N windows of real video through a
# real recld (replay clock, RECL's defaults otherwise), then the data
# directory's size on disk is divided by the windows served.
#
#   bench/store_growth.sh [BIN_DIR] [WINDOWS]
#
# BIN_DIR holds recld, recl-edge and recl-admin (default build/bin); the
# base expert is BIN_DIR/../cache/yolox_nano.pt. Prints one line: windows,
# store bytes (after recld's clean stop), the zoo's share of them and the
# rest (retrained models, gating samples and network, records). KEEP=1 keeps
# the data directory and lists it.
set -euo pipefail
bin="${1:-build/bin}"
windows="${2:-8}"
data="${RECL_DATA:-$(dirname "$0")/../../shared/data}"
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
"$bin/recld" --data-dir "$tmp/data" --listen 127.0.0.1:0 --data "$data" \
  --base-expert "$bin/../cache/yolox_nano.pt" --clock replay --budget 4 \
  --token store-growth-bench >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 120); do
  grep -q "recld listening on" "$tmp/out" && break
  sleep 0.5
done
address="$(grep -o 'listening on .*' "$tmp/out" | awk '{print $3}')"
clips="$(awk -F'\t' '$9 == "caltrans-n280-at-indiana-st" {print $1}' \
  "$data/catalog.tsv" | head -n "$windows" | paste -sd, -)"
"$bin/recl-edge" --server "$address" --camera cam-growth --token \
  store-growth-bench --source "catalog:$clips" --data "$data" \
  --window-seconds 5 --sample-fps 2 --windows "$windows" >"$tmp/edge" 2>&1
# Let the last job end and write its model, then stop.
sleep 20
zoo="$("$bin/recl-admin" --server "$address" --token store-growth-bench zoo \
  --json | python3 -c 'import json,sys; z=json.load(sys.stdin); print(z["size"], sum(e["weight_bytes"] for e in z["experts"]))')"
kill -TERM "$pid"
wait "$pid" || true
bytes="$(du -sb "$tmp/data" | cut -f1)"
served="$(grep -c '\[cam-growth\] window' "$tmp/edge" || true)"
[ -z "${KEEP:-}" ] || ls -la "$tmp/data" >&2
read -r zoo_size zoo_bytes <<<"$zoo"
echo "windows $served, store $bytes bytes ($((bytes / (served > 0 ? served : 1))) per window); zoo $zoo_size experts, $zoo_bytes bytes of weights; the rest $((bytes - zoo_bytes)) bytes ($bin)"
