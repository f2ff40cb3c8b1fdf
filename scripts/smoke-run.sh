#!/usr/bin/env bash
# Start `make run` as a newcomer would, wait for /healthz to be 200 with both workers
# seen, then press Ctrl-C and check that every process it started has stopped.
set -euo pipefail
port="${PORT:-8765}"
log="$(mktemp)"
PORT="$port" setsid make run >"$log" 2>&1 &
group=$!
broker_socket="$(pwd)/var/broker/redis.sock"  # the embedded broker runs in a session of its own
cleanup() { kill -KILL -- -"$group" 2>/dev/null || true; pkill -KILL -f "$broker_socket" 2>/dev/null || true; }
trap cleanup EXIT
ok=""
for _ in $(seq 180); do
  body="$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null || true)"
  if echo "$body" | grep -q '"site@' && echo "$body" | grep -q '"lab@'; then ok=1; break; fi
  sleep 1
done
if [ -z "$ok" ]; then
  echo "make run did not become healthy with both workers; its output:"; tail -n 80 "$log"; exit 1
fi
echo "healthz: $body"
# The events server (live updates) on the next port: it answers, and refuses a stream without a token.
[ "$(curl -fsS "http://127.0.0.1:$((port + 1))/events/healthz")" = ok ] || { echo "no events server"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((port + 1))/events/")" = 403 ] \
  || { echo "the events server streams without a token"; exit 1; }
for _ in $(seq 30); do grep -q "AI Academy is running" "$log" && break; sleep 0.5; done
grep -q "AI Academy is running" "$log" || { echo "no banner with the URL and logins"; exit 1; }
# The box comes last: the processes' own output (banners, warnings, task lines) goes to var/log/.
after="$(sed -n '/AI Academy is running/,$p' "$log" | grep -E 'WARNING|Warning|INFO/|ERROR' || true)"
[ -z "$after" ] || { echo "output after the box:"; echo "$after"; exit 1; }
kill -INT -- -"$group"
for _ in $(seq 40); do
  if ! pgrep -g "$group" >/dev/null && ! pgrep -f "$broker_socket" >/dev/null; then
    echo "make run stopped cleanly on Ctrl-C (the embedded broker, in its own session, last)"; trap - EXIT; exit 0
  fi
  sleep 0.5
done
echo "processes still running 20 s after Ctrl-C:"; pgrep -a -g "$group"; pgrep -af "$broker_socket"; exit 1
