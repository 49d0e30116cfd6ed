#!/usr/bin/env bash
# Same-run 256³ record for issue 14, fifth session: the fourth session's script with a warm-up
# run first, writing here. Output: stdout (same-run-256.txt) and the JSON files beside this script.
cd "$(dirname "$0")"
OUT=docs/bench-data/cpu-2026-12-06-nocopy WARMUP=1 exec ../cpu-2026-12-06-room/record.sh
