#!/usr/bin/env bash
# Both systems at 100:1 with 1, 2 and 4 query workers, then docs/scaling.md.
#   bench/scaling.sh [--rates R1,R2,...] [--seconds S]
# Takes about 10 minutes with the defaults; run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES="500,1000,2000,3000,4500,6000"
SECONDS_PER_LEVEL=10
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES="$2"; shift 2 ;;
    --seconds) SECONDS_PER_LEVEL="$2"; shift 2 ;;
    *) echo "usage: $0 [--rates R1,R2,...] [--seconds S]" >&2; exit 2 ;;
  esac
done
OUT="$(mktemp --suffix=.jsonl)"
trap 'rm -f "$OUT"' EXIT
for workers in 1 2 4; do
  for system in crud cqrs; do
    echo "== $system, $workers worker(s)"
    .venv/bin/python bench/mixed_load.py --system "$system" --workers "$workers" \
      --rates "$RATES" --seconds "$SECONDS_PER_LEVEL" --out "$OUT"
  done
done
.venv/bin/python bench/scaling_report.py "$OUT" \
  --command "bench/scaling.sh --rates $RATES --seconds $SECONDS_PER_LEVEL"
