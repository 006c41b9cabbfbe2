#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, then `fifo demo`.
source "$(dirname "$0")/lib/bootstrap.sh"
ensure_pnpm
ensure_postgres
ensure_node_modules
cd "$FIFO_ROOT"
exec pnpm -s fifo demo "$@"
