#!/bin/sh
# Entry point of the staktrakr image (Dockerfile, deploy/RUNBOOK.md).
#
#   cron (the default)    run deploy/crontab.$POLLER_ROLE (cloud|home) with Debian's cron
#   cron-env FILE [LOG]   only write the jobs' environment file (what `cron` does first)
#   anything else         run it as the staktrakr user, e.g. `staktrakr runs --last 5`
#
# Debian's cron must run as root (it switches to the crontab owner for every job); everything
# else, the jobs and `staktrakr serve`, runs as the unprivileged user.
set -eu

APP_USER=staktrakr
APP_DIR=/app
JOB_LOG=/var/log/staktrakr/jobs.log
CRON_ENV="/home/$APP_USER/.cron-env"   # the crontabs' BASH_ENV

as_user() {
    if [ "$(id -u)" = 0 ]; then
        HOME="/home/$APP_USER" exec setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups -- "$@"
    fi
    exec "$@"
}

# Write the environment of this container as a bash script for the jobs: cron starts them with
# an empty one. Variables the crontab sets (POLLER_ID, PATH, ...) win over these; the job's
# output goes to the job log, which this container copies to its own output.
write_cron_env() {
    (umask 077 && python3 - "$1" "$2") <<'PY'
import os, shlex, sys

target, job_log = sys.argv[1], sys.argv[2]
# Set per job by cron or the shell; copying them would give every job the entry point's.
skip = {"HOME", "HOSTNAME", "PWD", "OLDPWD", "SHLVL", "TERM", "_", "SHELL", "USER", "LOGNAME", "MAILTO", "BASH_ENV", "PATH"}
lines = ["# Written by deploy/entrypoint.sh at container start; sourced by bash before each cron job."]
for name, value in sorted(os.environ.items()):
    if name in skip or not name.isidentifier():
        continue
    lines.append(f"[ -n \"${{{name}+set}}\" ] || export {name}={shlex.quote(value)}")
lines.append(f"exec >>{shlex.quote(job_log)} 2>&1")
with open(target, "w", encoding="utf-8") as handle:
    handle.write("\n".join(lines) + "\n")
PY
}

command="${1:-cron}"
case "$command" in
cron-env)
    write_cron_env "${2:?usage: entrypoint.sh cron-env FILE [JOB_LOG]}" "${3:-$JOB_LOG}"
    exit 0
    ;;
cron) ;;
*) as_user "$@" ;;
esac

case "${POLLER_ROLE:-}" in
cloud | home) ;;
*)
    echo "error: set POLLER_ROLE to cloud or home (it picks deploy/crontab.cloud or deploy/crontab.home)" >&2
    exit 2
    ;;
esac
if [ "$(id -u)" != 0 ]; then
    echo "error: the cron mode needs root (cron switches to $APP_USER for every job); run other commands directly" >&2
    exit 2
fi

write_cron_env "$CRON_ENV" "$JOB_LOG"
chown "$APP_USER:$APP_USER" "$CRON_ENV"

data_dir="$(dirname "${STAKTRAKR_DB:-/data/staktrakr.db}")"
api_dir="${STAKTRAKR_API_DIR:-/data/api}"   # served from the start, before the first export
mkdir -p "$data_dir" "$api_dir" "$(dirname "$JOB_LOG")"
touch "$JOB_LOG"
chown "$APP_USER:$APP_USER" "$data_dir" "$api_dir" "$JOB_LOG"
# No job can be running in a container that is just starting (one container per data volume):
# a lock left by the previous container's killed run would hold its job for hours, since that
# container's host name and PIDs mean nothing here. Crawl locks, then the publisher's.
rm -f "$data_dir"/locks/*.lock "$(dirname "${API_GIT_WORKDIR:-/data/publish}")/publish.lock"

crontab -u "$APP_USER" "$APP_DIR/deploy/crontab.$POLLER_ROLE"
echo "staktrakr $POLLER_ROLE poller: cron jobs of deploy/crontab.$POLLER_ROLE (UTC), their output follows"

if [ -n "${SERVE_PORT:-}" ]; then
    # The API mirror and /metrics on one port, as the staktrakr user.
    HOME="/home/$APP_USER" setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups -- \
        staktrakr serve --host 0.0.0.0 --port "$SERVE_PORT" &
fi
tail -n 0 -F "$JOB_LOG" &
exec cron -f
