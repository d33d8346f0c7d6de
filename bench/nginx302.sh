# Sourced by bench/redirect.sh and bench/scale/scale.sh: the baseline both
# measure linkd against.
#
# nginx302_start DIR PORT DEST: starts nginx pinned to core 0 with one
# worker, access log off, answering every request on 127.0.0.1:PORT with
# `return 302 DEST`; its master's pid goes to DIR/nginx.pid (so a cleanup
# that kills DIR/*.pid stops it). Prints the worker's pid, the process that
# serves, once a request gets the redirect.
nginx302_start() {
  local dir=$1 port=$2 dest=$3
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$port;
    location / { return 302 '$dest'; }
  }
}
CONF
  taskset -c 0 nginx -c "$dir/nginx.conf" -p "$dir"
  for _ in $(seq 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
  if [ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$port/x")" != "302 $dest" ]; then
    echo "bench: nginx on port $port does not answer 302 $dest" >&2
    return 1
  fi
  pgrep -P "$(cat "$dir/nginx.pid")" | head -1
}
