#!/usr/bin/env bash
# HTTP benchmark (issue "Foundation", point 11): in one run on this machine, wrk against
#   - kvstore_server GET /get (10,000 keys, 100-byte values)
#   - nginx serving a 100-byte static file (the ceiling for HTTP on loopback)
#   - webdis in front of redis-server (an HTTP key-value peer)
# at 1, 16 and 128 connections, and durable writes at 1 and 64 connections:
#   - kvstore_server /set with --fsync=always
#   - webdis -> redis with appendonly yes, appendfsync always
# Prints one table of requests/s and p99 with the ratios the issue targets.
#
# Usage: bench/http_bench.sh   (each cell: BENCH_REPEAT=3 runs of BENCH_SECONDS=5, interleaved
# across servers so machine drift hits all alike; the table shows the median run)
# Everything listens on 127.0.0.1 only; every process is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-5}"
repeat="${BENCH_REPEAT:-3}"

source bench/lib.sh

value=$(printf 'v%.0s' $(seq 1 100))

# --- kvstore (durable, the default) ---
kv_port=$(free_port)
build/default/store/kvstore_server --port="$kv_port" --data_dir="$work/kv" --fsync=always \
  >"$work/kv.log" 2>&1 &
pids+=($!)
wait_port "$kv_port"
python3 - "$kv_port" "$value" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(10000):
    c.request("GET", f"/set?k{i}={sys.argv[2]}")
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY

# --- nginx, 100-byte static file ---
mkdir -p "$work/nginx/www"
printf '%s' "$value" >"$work/nginx/www/v.txt"
start_nginx "$work/nginx/www"
ng_port=$nginx_port

# --- redis + webdis (reads: no persistence) ---
start_redis_webdis() {  # name, extra redis args... ; sets rport and wport
  local name=$1; shift
  rport=$(free_port); wport=$(free_port)
  mkdir -p "$work/$name"
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$work/$name" --save '' \
    --auto-aof-rewrite-percentage 0 "$@" \
    </dev/null >"$work/$name/redis.log" 2>&1 &
  pids+=($!)
  wait_port "$rport"
  cat >"$work/$name/webdis.json" <<CONF
{ "redis_host": "127.0.0.1", "redis_port": $rport, "http_host": "127.0.0.1",
  "http_port": $wport, "threads": 2, "daemonize": false, "database": 0,
  "verbosity": 0, "logfile": "$work/$name/webdis.log" }
CONF
  webdis "$work/$name/webdis.json" </dev/null >/dev/null 2>&1 &
  pids+=($!)
  wait_port "$wport"
}
start_redis_webdis redis
redis_port=$rport webdis_port=$wport
for i in $(seq 0 9999); do printf 'SET k%d %s\r\n' "$i" "$value"; done |
  redis-cli -p "$redis_port" --pipe >/dev/null
start_redis_webdis redis-aof --appendonly yes --appendfsync always
webdis_aof_port=$wport

run_wrk() {  # kind port conns -> "rps p99_us errors"
  local out
  out=$(wrk -t1 -c"$3" -d"${seconds}s" --timeout 5s -s bench/wrk_keys.lua \
    "http://127.0.0.1:$2" -- "$1" 10000 2>&1 | grep '^RESULT')
  local rps p99 err bad
  rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$out")
  p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$out")
  err=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$out")
  bad=$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$out")
  echo "$rps $p99 $((err + bad))"
}

declare -A rps p99 errs runs
measure() {  # label kind port conns: one run, appended to the label's runs
  read -r r p e < <(run_wrk "$2" "$3" "$4")
  runs[$1]="${runs[$1]:-} $r:$p"
  errs[$1]=$(( ${errs[$1]:-0} + e ))
  printf '  %-22s c=%-4s %10.0f req/s  p99 %7.2f ms  errors %s\n' "$1" "$4" "$r" \
    "$(awk -v p="$p" 'BEGIN{print p/1000}')" "$e" >&2
}
# Keeps the median run (by req/s) of each label.
take_medians() {
  for label in "${!runs[@]}"; do
    read -r r p < <(tr ' ' '\n' <<<"${runs[$label]}" | grep . | sort -t: -k1,1 -g |
      awk -F: '{a[NR]=$1; b[NR]=$2} END {m=int((NR+1)/2); print a[m], b[m]}')
    rps[$label]=$r; p99[$label]=$p
  done
}

echo "Measuring (${repeat} x ${seconds}s per cell)..." >&2
for round in $(seq 1 "$repeat"); do
  for c in 1 16 128; do
    measure "kv_get_$c" kv-get "$kv_port" "$c"
    measure "nginx_$c" static "$ng_port" "$c"
    measure "webdis_get_$c" webdis-get "$webdis_port" "$c"
  done
  for c in 1 64; do
    measure "kv_set_$c" kv-set "$kv_port" "$c"
    measure "webdis_set_$c" webdis-set "$webdis_aof_port" "$c"
  done
done
take_medians

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "n/a"; else printf "%.2f", a/b }'; }
ms() { awk -v p="$1" 'BEGIN{printf "%.2f", p/1000}'; }

echo
echo "| workload | conns | kvstore req/s (p99 ms) | nginx static | webdis+redis | kvstore/nginx | kvstore/webdis |"
echo "|---|---|---|---|---|---|---|"
for c in 1 16 128; do
  echo "| GET 100 B | $c | ${rps[kv_get_$c]%.*} ($(ms "${p99[kv_get_$c]}")) | ${rps[nginx_$c]%.*} ($(ms "${p99[nginx_$c]}")) | ${rps[webdis_get_$c]%.*} ($(ms "${p99[webdis_get_$c]}")) | $(ratio "${rps[kv_get_$c]}" "${rps[nginx_$c]}") | $(ratio "${rps[kv_get_$c]}" "${rps[webdis_get_$c]}") |"
done
for c in 1 64; do
  echo "| durable SET 100 B | $c | ${rps[kv_set_$c]%.*} ($(ms "${p99[kv_set_$c]}")) | - | ${rps[webdis_set_$c]%.*} ($(ms "${p99[webdis_set_$c]}")) (appendfsync always) | - | $(ratio "${rps[kv_set_$c]}" "${rps[webdis_set_$c]}") |"
done
echo
echo "durable /set scaling, 64 vs 1 connection: $(ratio "${rps[kv_set_64]}" "${rps[kv_set_1]}")x (target >= 10x)"
echo "targets: GET >= 0.8x nginx and >= 1.5x webdis at 16 and 128; durable SET at 64 >= redis-always"
total_errors=0
for k in "${!errs[@]}"; do total_errors=$((total_errors + errs[$k])); done
echo "errors or non-2xx answers across all runs: $total_errors"
