#!/usr/bin/env bash
# Cron-ready backup of a running Strata (or Redis) server with strata-dump: takes a
# consistent snapshot over the network, verifies it by reading it back, keeps the newest
# KEEP backups, and logs one line per run. Exit code 0 only when the new backup verified
# (cron mails the output of a failing run when MAILTO is set).
#
#   STRATA_HOST=127.0.0.1:6379 BACKUP_DIR=/var/backups/strata KEEP=14 Tools/strata-backup-cron.sh
#
# Example crontab line (every night at 03:17; also verify the newest backup weekly):
#   17 3 * * *  STRATA_HOST=127.0.0.1:6379 BACKUP_DIR=/var/backups/strata KEEP=14 /opt/strata/Tools/strata-backup-cron.sh >> /var/log/strata-backup.log 2>&1
#   45 4 * * 0  /opt/strata/.build/release/strata-dump verify "$(ls -t /var/backups/strata/backup-*.rdb | head -1)" >> /var/log/strata-backup.log 2>&1
#
# Environment: STRATA_HOST (default 127.0.0.1:6379), BACKUP_DIR (required), KEEP (default 7),
# STRATA_PASSWORD (optional; passed to AUTH), STRATA_DUMP (default: the binary next to this
# checkout's .build/release), COMPRESS (lz4 or zlib: keep compressed .sdb backups),
# SYSLOG (default yes: each run's line also goes to syslog through `logger -t strata-backup`,
# at priority user.info, or user.err for a failed run).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dump="${STRATA_DUMP:-$here/../.build/release/strata-dump}"
host="${STRATA_HOST:-127.0.0.1:6379}"
keep="${KEEP:-7}"
: "${BACKUP_DIR:?set BACKUP_DIR to the directory that keeps the backups}"

if [[ ! -x "$dump" ]]; then
  echo "$(date -u +%FT%TZ) strata-backup: $dump not found (build it with make release)" >&2
  exit 2
fi

args=(backup --from "$host" --out "$BACKUP_DIR" --keep "$keep")
if [[ -n "${STRATA_PASSWORD:-}" ]]; then args+=(--password "$STRATA_PASSWORD"); fi
if [[ -n "${COMPRESS:-}" ]]; then args+=(--compress "$COMPRESS"); fi

# One line to syslog as well, when logger is there and SYSLOG is not "no".
to_syslog() {
  local priority="$1" line="$2"
  if [[ "${SYSLOG:-yes}" != "no" ]] && command -v logger >/dev/null 2>&1; then
    logger -t strata-backup -p "user.$priority" -- "$line" 2>/dev/null || true
  fi
}

if output="$("$dump" "${args[@]}" 2>&1)"; then
  line="ok: $output"
  echo "$(date -u +%FT%TZ) strata-backup: $line"
  to_syslog info "$line"
else
  status=$?
  line="FAILED (exit $status): $output"
  echo "$(date -u +%FT%TZ) strata-backup: $line" >&2
  to_syslog err "$line"
  exit "$status"
fi
