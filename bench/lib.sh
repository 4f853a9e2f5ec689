# Shared setup for the bench scripts; source it from the repository root.
# Installs the bench packages, builds the default preset, makes a work dir ($work) that nginx
# workers (user nobody) can read, and kills every process recorded in $pids on exit.
scripts/install_deps.sh --bench
scripts/build.sh default >/dev/null

work=$(mktemp -d /tmp/kvstore-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits (up to 20 s) until something listens on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 1 400); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "port $1 never opened" >&2
  return 1
}

# Starts nginx (2 workers, on a free port, set in $nginx_port) serving the files of $1.
# Not in a subshell: the pid must reach $pids.
start_nginx() {
  local www=$1 port conf
  port=$(free_port)
  nginx_port=$port
  conf="$work/nginx-$port.conf"
  cat >"$conf" <<CONF
worker_processes 2;
pid $work/nginx-$port.pid;
error_log $work/nginx-$port.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server { listen 127.0.0.1:$port; root $www; }
}
CONF
  nginx -c "$conf" -g 'daemon off;' </dev/null >/dev/null 2>&1 &
  pids+=($!)
  wait_port "$port"
}

# Writes the seed keys k0..k9999 (100-byte values) through /set on 127.0.0.1:$1.
load_seed_keys() {
  python3 - "$1" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(10000):
    c.request("GET", f"/set?k{i}={'v' * 100}"); r = c.getresponse(); r.read()
    assert r.status == 200
PY
}

# Waits (up to a minute) until the store on 127.0.0.1:$1 has no flush or compaction running or
# due, so a measurement starts from a settled store.
settle() {
  for _ in $(seq 1 120); do
    jobs=$(curl -s "http://127.0.0.1:$1/metrics" |
      awk '/^kvstore_storage_background_jobs /{print $2}')
    [ "$jobs" = 0 ] && return
    sleep 0.5
  done
}
