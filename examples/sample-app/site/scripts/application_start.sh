#!/bin/bash
# Starts the app in the background (output to a log file, so the hook returns) and records its pid.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mkdir -p "$RUN_DIR" "$(dirname "$LOG_FILE")"
cd "$APP_DIR"
nohup node server.js >> "$LOG_FILE" 2>&1 < /dev/null &
echo $! > "$PID_FILE"
echo "started version $(cat VERSION) (pid $(cat "$PID_FILE"))"
