#!/usr/bin/env bash
# Idle daemon benchmark: `mentions run` with 1,000 scheduled feed sources
# (none due during the measurement), its resident memory once settled, and
# the CPU time it uses while idle, scaled to an hour.
#
#   cargo build --release && scripts/bench-idle.sh [SECONDS]   (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
bin=target/release/mentions
out=bench-out/idle
mkdir -p "$out"
rm -f "$out"/idle.db*
{
  printf '[database]\npath = "idle.db"\n\n'
  printf '[[topic]]\nname = "nordkorea-russland"\nquery = %s\n\n' "'(nordkorea* OR \"north korea\") AND (russland* OR putin)'"
  for i in $(seq 1 1000); do
    # Due once a year (1 January, spread over the day), so nothing fires while measured.
    printf '[[source]]\nname = "feed-%04d"\ntype = "feed"\nurl = "http://127.0.0.1:9/feed/%d.xml"\nschedule = "%d %d %d 1 1 *"\n\n' \
      "$i" "$i" $((i % 60)) $(((i / 60) % 60)) $((i % 24))
  done
} > "$out/config.toml"

RUST_LOG=warn "$bin" --config "$out/config.toml" run 2> "$out/run.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
sleep 3
kill -0 $pid
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(cpu)
sleep "$secs"
c1=$(cpu)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
kill -TERM $pid
wait $pid || true
trap - EXIT
awk -v c0="$c0" -v c1="$c1" -v tick="$tick" -v secs="$secs" -v rss="$rss" -v hwm="$hwm" -v th="$threads" 'BEGIN {
  cpu = (c1 - c0) / tick
  printf "idle: mentions run, 1000 scheduled sources, measured %d s\n", secs
  printf "  RSS %.1f MiB (peak %.1f MiB), %d threads\n", rss / 1024, hwm / 1024, th
  printf "  CPU while idle: %.2f s in %d s = %.2f CPU-seconds per hour (clock ticks of %.0f ms)\n", cpu, secs, cpu * 3600 / secs, 1000 / tick
  printf "idle_rss_mib=%.1f idle_cpu_s_per_h=%.2f\n", rss / 1024, cpu * 3600 / secs
}'
