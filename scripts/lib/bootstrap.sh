# Sourced by scripts/*.sh. Installs what a fresh machine lacks, safe to run again:
# pnpm (pinned), node modules, and, when apt is there and they are missing, the
# PostgreSQL server, and for the tests pgTAP, pg_cron and Chromium. What the installers
# print goes to a log shown only when they fail: a newcomer sees our lines, no warnings.
set -euo pipefail

FIFO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export FIFO_ROOT
PNPM_VERSION=9.15.9
PG_MAJOR="${FIFO_PG_MAJOR:-15}"

log() { printf '\033[2m[fifo-ledger]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

# Runs a command with its output in a log; on failure shows the log and fails.
quietly() {
  local out rc=0
  out="$(mktemp)"
  "$@" >"$out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || cat "$out" >&2
  rm -f "$out"
  return "$rc"
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  log "installing Debian packages: $*"
  if [ ! -f /tmp/.fifo-apt-updated ]; then quietly as_root apt-get update -qq && touch /tmp/.fifo-apt-updated; fi
  quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
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
    pnpm install --frozen-lockfile --reporter=silent >/dev/null 2>&1 || quietly pnpm install --reporter=silent
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

ensure_chromium() {  # the HTML report's browser tests render it in headless Debian chromium (~350 MB)
  if [ "${FIFO_SKIP_BROWSER:-}" = 1 ]; then log "FIFO_SKIP_BROWSER=1: Chromium not installed, the browser tests are skipped"; return 0; fi
  [ -n "${CHROMIUM:-}" ] && return 0  # a browser binary of your own (e.g. Chrome on macOS)
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 && return 0
  apt_install chromium || { echo "chromium is missing: apt-get install chromium (the HTML report's browser tests need it), or set FIFO_SKIP_BROWSER=1 to skip them" >&2; exit 2; }
}

# What a newcomer would have to look up in the README commands' output: npm/pnpm warnings
# (an unknown config key, a deprecated package, peer dependency issues), Node's runtime
# warnings, installer notices. Lines of FILE that look like one are printed; status 1 if any.
WARNING_PATTERN='(^|[^a-z])(warn|warning|deprecat[a-z]*|unknown (project|user|env|global|builtin|cli) config|experimentalwarning|npm notice|update available)([^a-z]|$)'
warnings_in() {
  ! grep -iE "$WARNING_PATTERN" "$1" >&2
}

# The output of the setup steps the two README commands share, run again (each is a no-op once
# done, so this costs seconds): npm and pnpm starting a script, the install, the CLI loading.
check_setup_quiet() {
  local out
  out="$(mktemp)"
  (
    cd "$FIFO_ROOT"
    npm run -s fifo -- --version
    pnpm -s fifo --version
    pnpm install --frozen-lockfile --prefer-offline
    pnpm -s fifo db status || true
  ) >"$out" 2>&1 || true
  local rc=0
  warnings_in "$out" || rc=1
  rm -f "$out"
  return "$rc"
}
