# Sourced by scripts/*.sh. Installs what a fresh machine lacks, safe to run again:
# pnpm (pinned), node modules, and, when apt is there and they are missing, the
# PostgreSQL server and pgTAP packages.
set -euo pipefail

FIFO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export FIFO_ROOT
PNPM_VERSION=9.15.9
PG_MAJOR="${FIFO_PG_MAJOR:-15}"

log() { printf '\033[2m[fifo-ledger]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  log "installing Debian packages: $*"
  if [ ! -f /tmp/.fifo-apt-updated ]; then as_root apt-get update -qq && touch /tmp/.fifo-apt-updated; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" -ge 9 ] 2>/dev/null; then return; fi
  log "installing pnpm@$PNPM_VERSION"
  if [ -w "$(npm prefix -g)/lib" ] 2>/dev/null || [ "$(id -u)" = 0 ]; then
    npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null 2>&1
  else
    npm install -g --silent --prefix "$HOME/.local" "pnpm@$PNPM_VERSION" >/dev/null 2>&1
    export PATH="$HOME/.local/bin:$PATH"
  fi
  hash -r
  command -v pnpm >/dev/null 2>&1 || { echo "could not install pnpm; install it with: npm install -g pnpm@$PNPM_VERSION" >&2; exit 2; }
}

ensure_node_modules() {
  cd "$FIFO_ROOT"
  if [ ! -d node_modules/.pnpm ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
    log "installing node modules"
    pnpm install --frozen-lockfile --reporter=silent 2>/dev/null || pnpm install --reporter=silent
  fi
}

pg_bindir() {
  if [ -n "${FIFO_PG_BINDIR:-}" ]; then echo "$FIFO_PG_BINDIR"; return; fi
  for d in /usr/lib/postgresql/$PG_MAJOR/bin /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && pg_config --bindir
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then return; fi
  if [ -z "$(pg_bindir)" ]; then
    apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" || {
      echo "PostgreSQL server binaries not found. Install them (Debian/Ubuntu: apt-get install postgresql-$PG_MAJOR) or set DATABASE_URL." >&2; exit 2; }
  fi
}

ensure_pgtap() {
  local share
  share="$(pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/$PG_MAJOR)"
  local want=()
  ls /usr/share/postgresql/*/extension/pgtap.control >/dev/null 2>&1 || ls "$share"/extension/pgtap.control >/dev/null 2>&1 || want+=("postgresql-$PG_MAJOR-pgtap")
  command -v pg_prove >/dev/null 2>&1 || want+=(libtap-parser-sourcehandler-pgtap-perl)
  if [ "${#want[@]}" -gt 0 ]; then
    apt_install "${want[@]}" || { echo "pgTAP is missing: apt-get install postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl" >&2; exit 2; }
  fi
}

ensure_pg_cron() {  # optional: in-database scheduling tests; skipped where it cannot be had
  [ -n "${DATABASE_URL:-}" ] && return 0
  ls /usr/lib/postgresql/*/lib/pg_cron.so >/dev/null 2>&1 || apt_install "postgresql-$PG_MAJOR-cron" || log "pg_cron unavailable: its test is skipped"
}

fifo() { (cd "$FIFO_ROOT" && pnpm -s fifo "$@"); }

ensure_chromium() {  # the HTML report's screenshot test renders it in headless Debian chromium
  [ -n "${CHROMIUM:-}" ] && return 0  # a browser binary of your own (e.g. Chrome on macOS)
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 && return 0
  apt_install chromium || { echo "chromium is missing: apt-get install chromium (the HTML report test needs it)" >&2; exit 2; }
}
