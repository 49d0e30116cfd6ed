#!/usr/bin/env bash
# Same-run 256³ record for issue 14 (run on an idle machine; build target/release first).
# Output: stdout (same-run-256.txt) and the JSON files beside this script, or in $OUT.
# WARMUP=1 starts with one multigrid run (tag w) that warms the machine up: reported, not
# compared (this VM hands freed memory back to its host, and the first process to touch
# gigabytes after a pause pays for the host mapping them again; BENCHMARKS.md).
set -u
cd "$(dirname "$0")/../../.."
out=${OUT:-docs/bench-data/cpu-2026-12-06-room}
bin=target/tg-record  # a copy, so a rebuild during the run cannot change the binary
cp target/release/tunnelgrid $bin
rev=$(git rev-parse --short HEAD)
echo "start $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg) binary $rev"
run() { # size p solver tag
  /usr/bin/time -v $bin bench --resistance --engine cpu --preset bernoulli-bond --p $2 --sizes $1 --repeat 1 --solver $3 --json $out/same-run-$1-$2-$3-$4.json > /dev/null 2> $out/time-$4-$3-$2.txt
  rss=$(grep "Maximum resident" $out/time-$4-$3-$2.txt | awk '{print $NF}')
  python3 - $out/same-run-$1-$2-$3-$4.json $rss <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))[0]
print(f"{r['size']} {sys.argv[1].split('-')[-3]} {r['solver']} {r['iterations']} R {r['resistance_ohm']!r} setup {r['preconditioner_setup_s'] or 0:.2f} total {r['time_to_solution_s']:.2f} rssGiB {int(sys.argv[2])/1024**2:.2f}")
PY
  echo "  at $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
}
[ "${WARMUP:-0}" = 1 ] && run 256 0.6 amg w
run 256 0.6 amg a
run 256 0.6 jacobi a
run 256 0.6 amg b
run 256 0.27 amg a
run 256 0.27 jacobi a
echo "== iterations $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
for p in 0.6 0.27; do
  $bin bench --resistance --engine cpu --preset bernoulli-bond --p $p --sizes 64,128 --repeat 1 --solver amg --json $out/amg-p$p.json 2>/dev/null | grep -E "^ +[0-9]+ "
done
echo "== pyamg 128 $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
scripts/peers --kirchhoff --kirchhoff-sizes 128 --with-jacobi --bin $bin --markdown $out/peers.md 2>&1 | grep -E "^\||PASS|FAIL|machine"
echo "end $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
