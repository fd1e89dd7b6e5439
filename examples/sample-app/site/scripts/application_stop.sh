#!/bin/bash
# Stops the running version, if any, and waits until its port is free.
source "$(dirname "$0")/common.sh"
if [ -f "$PID_FILE" ]; then
  kill "$(cat "$PID_FILE")" 2>/dev/null || true
  rm -f "$PID_FILE"
fi
for _ in $(seq 1 100); do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/health" || { echo "stopped"; exit 0; }
  sleep 0.1
done
echo "something still answers on port $PORT after stopping the app" >&2
exit 1
