#!/usr/bin/env bash
# Side-by-side benchmark for issue 5: `locportal check wav --qc` against ffmpeg's ebur128 (with
# true peak) and `sox stats` on a 10-minute 24-bit 48 kHz stereo WAV, then the structural check
# of a sparse RF64 file over 4 GiB, and peak memory of each. Needs hyperfine, ffmpeg, sox and
# /usr/bin/time (GNU). Prints markdown tables; figures go into docs/PERFORMANCE.md by hand.
#
#   crates/audio/benches/compare.sh            # from the repository root
#   RUNS=10 BENCH_DIR=/tmp/x crates/audio/benches/compare.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=${BENCH_DIR:-/tmp/locportal-audio-bench}
runs=${RUNS:-5}
mkdir -p "$work"
bin="$root/target/release/locportal"
(cd "$root" && cargo build --release -p locportal --quiet)
(cd "$root" && cargo bench -p audio --bench structure --quiet 2>/dev/null) | tee "$work/structure.txt"
cd "$work"
if [ ! -f f.wav ]; then
  # The research note's file: pink noise plus a 440 Hz tone, 172 800 080 bytes.
  sox -n -r 48000 -b 24 -c 2 f.wav synth 600 pinknoise synth 600 sine mix 440 vol 0.25
fi
cat f.wav > /dev/null # page-cache it, as in the research baselines

echo "## QC pass, 10-minute 24-bit 48 kHz stereo ($(nproc) cores)"
hyperfine --style basic --warmup 1 --runs "$runs" --export-markdown qc.md \
  -n "locportal check wav --qc" "$bin check wav --qc f.wav" \
  -n "ffmpeg ebur128=peak=true" "ffmpeg -nostdin -hide_banner -nostats -i f.wav -af ebur128=peak=true -f null -" \
  -n "sox stats" "sox f.wav -n stats"
cat qc.md

echo "## Peak memory (max RSS)"
for cmd in "$bin check wav --qc f.wav" \
           "ffmpeg -nostdin -hide_banner -nostats -i f.wav -af ebur128=peak=true -f null -" \
           "sox f.wav -n stats"; do
  /usr/bin/time -f "%M KB  %e s  $cmd" $cmd > /dev/null 2> time.txt || true
  tail -1 time.txt
done

big=$(dirname "$(mktemp -u)")/locportal-bench-rf64.wav
echo "## Structural check of a sparse RF64 file of $(du --apparent-size -h "$big" | cut -f1)"
hyperfine --style basic --warmup 3 --runs 50 -N --export-markdown rf64.md \
  -n "locportal check wav (RF64 > 4 GiB)" "$bin check wav $big" || true
cat rf64.md
strace -f -e trace=read,pread64 -o strace.txt "$bin" check wav "$big" > /dev/null 2>&1 || true
if [ -s strace.txt ]; then
  echo "bytes read by the whole process (strace):" \
    "$(grep -E '^[0-9]+ +(read|pread64)\(' strace.txt | sed -E 's/.*= ([0-9]+)$/\1/' | awk '{s+=$1} END {print s}')"
fi
if [ "${BIG_QC:-0}" = 1 ]; then
  echo "## QC pass over the whole 5 GiB RF64 file (memory stays flat)"
  /usr/bin/time -f "%M KB max RSS, %e s" "$bin" check wav --qc "$big" > /dev/null
fi
