"""Where the sync lag goes: the stage histograms over `cqrskit bench`'s lag phase.

    .venv/bin/python bench/sync_stages.py METRICS_URL... -- cqrskit bench ...

Runs the bench, passing its output through, and reads
`cqrskit_sync_stage_seconds` from every METRICS_URL (the relay's, the
projectors' and the query service's /metrics) as the lag phase starts (when
the row of the phase before it is printed) and after the bench ends; the
difference is the lag phase's alone. Appends one JSON line, key
`sync_stages`, to $COMPARE_RESULTS (bench/compare_report.py renders it): per
stage, the batches timed, the mean, and p50 and p99 interpolated within the
histogram's buckets as Prometheus' `histogram_quantile` does (so no finer
than its buckets).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import httpx

BEFORE_LAG_PHASE = "order (cart, item, order)"
_SAMPLE = re.compile(
    r'^cqrskit_sync_stage_seconds_(bucket|sum|count)\{(?:le="([^"]+)",)?'
    r'stage="(\w+)"\} (\S+)$',
    re.M,
)
Reading = dict[tuple[str, str], float]
"""(stage, bucket bound or "sum"/"count") -> value, summed over processes."""


def scrape(urls: list[str]) -> Reading:
    reading: Reading = {}
    for url in urls:
        text = httpx.get(url, timeout=10).text
        for kind, bound, stage, value in _SAMPLE.findall(text):
            key = (stage, bound if kind == "bucket" else kind)
            reading[key] = reading.get(key, 0.0) + float(value)
    return reading


def quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """`buckets`: (upper bound, cumulative count), ascending, +Inf last."""
    total = buckets[-1][1]
    if not total:
        return math.nan
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return lower


def summary(before: Reading, after: Reading) -> dict[str, dict[str, float]]:
    stages: dict[str, dict[str, float]] = {}
    for stage in sorted({stage for stage, _ in after}):

        def moved(key: str, stage: str = stage) -> float:
            return after.get((stage, key), 0.0) - before.get((stage, key), 0.0)

        bounds = [k for s, k in after if s == stage and k not in ("sum", "count")]
        buckets = sorted((float(b), moved(b)) for b in bounds)
        count = moved("count")
        stages[stage] = {
            "batches": count,
            "mean_ms": 1000 * moved("sum") / count if count else math.nan,
            "p50_ms": 1000 * quantile(0.5, buckets),
            "p99_ms": 1000 * quantile(0.99, buckets),
        }
    return stages


def main(argv: list[str]) -> int:
    split = argv.index("--")
    urls, command = argv[:split], argv[split + 1 :]
    before: Reading = {}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as bench:
        for line in bench.stdout or ():
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.startswith(BEFORE_LAG_PHASE):
                before = scrape(urls)
    if bench.returncode:
        return bench.returncode
    record = {"key": "sync_stages", "stages": summary(before, scrape(urls))}
    if out := os.environ.get("COMPARE_RESULTS"):
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")
    print(json.dumps(record), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
