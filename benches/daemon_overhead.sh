#!/usr/bin/env bash
# benches/daemon_overhead.sh: does measuring through stagebench cost anything?
#
# 1. Build time: the same no-cache classic build, interleaved, N times through `stagebench run`
#    (its recorded build_seconds) and N times through `docker build --no-cache -q` (wall time of
#    the CLI process). Equal medians mean stagebench adds no measurable overhead to what it reports.
# 2. Memory: peak RSS of stagebench and of the docker CLI sending a 1 MB and a 1 GB build context.
#    Flat memory means the context is streamed, never held.
# Needs a daemon (run it as `scripts/with-docker benches/daemon_overhead.sh`) and GNU time.
# Prints a Markdown table for README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${RUNS:-10}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
bin=$PWD/target/release/stagebench
work=$(mktemp -d)
trap 'rm -rf "$work"; docker rmi -f stagebench-bench/cli:latest >/dev/null 2>&1 || true' EXIT

mkdir -p "$work/small"
printf 'FROM busybox:latest\nRUN echo built > /built && sleep 0.2\n' > "$work/small/bench.Dockerfile"
printf 'name = "bench-overhead"\n' > "$work/small/scenario.toml"

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

: > "$work/ours.txt"; : > "$work/cli.txt"
for i in $(seq "$runs"); do
  "$bin" run "$work/small" --runs 1 --cache cold --builder classic --quiet --out "$work/out-$i" >/dev/null
  tail -n 1 "$work/out-$i/results.csv" | awk -F, '{ print $8 }' >> "$work/ours.txt"
  start=$(date +%s.%N)
  DOCKER_BUILDKIT=0 docker build --no-cache -q -f "$work/small/bench.Dockerfile" -t stagebench-bench/cli "$work/small" >/dev/null 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' >> "$work/cli.txt"
done
ours=$(median < "$work/ours.txt")
cli=$(median < "$work/cli.txt")

peak_kb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }
mkdir -p "$work/big"
printf 'FROM busybox:latest\nRUN true\n' > "$work/big/bench.Dockerfile"
printf 'name = "bench-memory"\n' > "$work/big/scenario.toml"
for i in $(seq 100); do head -c 10000000 /dev/urandom > "$work/big/file-$i.bin"; done
mem_small=$(peak_kb "$bin" run "$work/small" --runs 1 --cache cold --builder classic --quiet --out "$work/mem-small")
mem_big=$(peak_kb "$bin" run "$work/big" --runs 1 --cache cold --builder classic --quiet --out "$work/mem-big")
big_seconds=$(tail -n 1 "$work/mem-big/results.csv" | awk -F, '{ print $8 }')
cli_small=$(DOCKER_BUILDKIT=0 peak_kb docker build --no-cache -q -f "$work/small/bench.Dockerfile" -t stagebench-bench/cli "$work/small")
cli_big=$(DOCKER_BUILDKIT=0 peak_kb docker build --no-cache -q -f "$work/big/bench.Dockerfile" -t stagebench-bench/cli "$work/big")
docker rmi -f stagebench/bench-overhead:bench stagebench/bench-memory:bench >/dev/null 2>&1 || true

cat <<TABLE
| measure | stagebench | docker CLI |
| --- | --- | --- |
| median no-cache classic build, $runs interleaved runs each | $(printf '%.3f' "$ours") s (recorded build_seconds) | $(printf '%.3f' "$cli") s (process wall time) |
| peak RSS, 1 MB context | $((mem_small / 1024)) MiB | $((cli_small / 1024)) MiB |
| peak RSS, 1 GB context (100 x 10 MB) | $((mem_big / 1024)) MiB | $((cli_big / 1024)) MiB |
| build time with the 1 GB context | $(printf '%.1f' "$big_seconds") s | |
TABLE
