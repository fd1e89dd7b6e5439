#!/bin/bash
# Checks what CodeDeploy copied before anything is started.
set -euo pipefail
source "$(dirname "$0")/common.sh"
test -f "$APP_DIR/server.js" || { echo "server.js was not installed in $APP_DIR" >&2; exit 1; }
echo "installed version $(cat "$APP_DIR/VERSION")"
