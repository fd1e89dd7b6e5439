# Shared by the hooks. On a real Amazon Linux instance KEYLESS_INSTANCE_ROOT and KEYLESS_INSTANCE_PORT are
# unset, so paths are the real ones and the app listens on port 80; on a sandbox instance they re-root both.
ROOT="${KEYLESS_INSTANCE_ROOT:-}"
PORT="${KEYLESS_INSTANCE_PORT:-80}"
APP_DIR="$ROOT/opt/keyless-sample-app"
RUN_DIR="$ROOT/var/run/keyless-sample-app"
LOG_FILE="$ROOT/var/log/keyless-sample-app.log"
PID_FILE="$RUN_DIR/app.pid"
