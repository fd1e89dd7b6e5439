#!/bin/bash
# Prepares the instance: Node.js (real Amazon Linux only; the sandbox has it) and a clean app folder.
set -euo pipefail
source "$(dirname "$0")/common.sh"
if [ -z "${KEYLESS_INSTANCE_ROOT:-}" ] && ! command -v node >/dev/null 2>&1; then
  dnf install -y nodejs
fi
mkdir -p "$RUN_DIR" "$(dirname "$LOG_FILE")"
rm -rf "$APP_DIR"
echo "instance ready for $(basename "$APP_DIR")"
