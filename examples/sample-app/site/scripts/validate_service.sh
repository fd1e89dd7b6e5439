#!/bin/bash
# Really checks the app: its health endpoint answers and it serves the version that was just installed.
source "$(dirname "$0")/common.sh"
expected="$(cat "$APP_DIR/VERSION")"
for _ in $(seq 1 100); do
  if served="$(curl -sf --max-time 2 "http://127.0.0.1:$PORT/version")" && [ "$served" = "$expected" ]; then
    curl -sf --max-time 2 "http://127.0.0.1:$PORT/health" >/dev/null && { echo "serving $served"; exit 0; }
  fi
  # An app that has exited will not start answering: say why now instead of waiting out the retries. (Its
  # process may linger as a zombie when nothing reaps it, so the state is read, not just the pid probed.)
  state="$(ps -o stat= -p "$(cat "$PID_FILE" 2>/dev/null)" 2>/dev/null || true)"
  if [ -f "$PID_FILE" ] && { [ -z "$state" ] || [ "${state#Z}" != "$state" ]; }; then
    echo "version $expected is not running: its process $(cat "$PID_FILE") exited; the end of its log:" >&2
    tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.2
done
echo "the app does not serve version $expected on port $PORT (last answer: '${served:-none}')" >&2
tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
exit 1
