# One image for both pollers (DESIGN.md §12). POLLER_ROLE=cloud|home picks the crontab at start;
# configuration and secrets come from the environment at run time (deploy/env.*.example), never
# from the image. How to run and operate it: deploy/RUNBOOK.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# chromium-headless-shell + fonts-liberation: dealers whose prices are rendered by JavaScript
#   (scrapy-playwright drives /usr/bin/chromium-headless-shell, the lean headless-only build; no
#   browser download at build time).
# cron: Debian's cron daemon. supercronic, the usual container cron, is packaged neither by Debian
#   nor on PyPI; Debian's cron runs as root and starts each job as the crontab's owner.
#   pam_loginuid cannot write /proc/self/loginuid in a container, and as a `required` session
#   module it would stop every job; the other cron.* entries are the distribution's maintenance.
# git: the publisher commits and pushes the API. tini: PID 1 that forwards signals and reaps.
# Versions are not pinned: bookworm's security archive replaces chromium's version in place, so a
# pin would break the build at the next Chromium advisory; the base image tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates chromium-headless-shell cron fonts-liberation git tini \
    && rm -rf /var/lib/apt/lists/* /etc/cron.d/* /etc/cron.daily/* /etc/cron.hourly/* /etc/cron.monthly/* /etc/cron.weekly/* \
    && sed -i 's/^session\s\+required\s\+pam_loginuid\.so/session optional pam_loginuid.so/' /etc/pam.d/cron \
    && useradd --create-home --uid 10001 --shell /bin/bash staktrakr \
    && mkdir -p /data /var/log/staktrakr \
    && chown staktrakr:staktrakr /data /var/log/staktrakr

WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir /app \
    && chmod 0755 /app/deploy/entrypoint.sh

# Where the jobs keep their state (a volume): the database, locks, the export, the publish clone.
ENV STAKTRAKR_DB=/data/staktrakr.db \
    STAKTRAKR_API_DIR=/data/api \
    API_GIT_WORKDIR=/data/publish \
    SCRAPY_SETTINGS_MODULE=staktrakr.settings
VOLUME ["/data"]

# `staktrakr serve` (API mirror and /metrics) when SERVE_PORT=8080 is set.
EXPOSE 8080

# The published feeds' freshness: this container's export (cloud), or the public API given as
# STAKTRAKR_HEALTH_URL (home, which exports nothing). The first publish comes within the hour.
HEALTHCHECK --interval=5m --timeout=60s --start-period=1h --retries=3 \
    CMD ["/bin/sh", "-c", "staktrakr health ${STAKTRAKR_HEALTH_URL:+--url \"$STAKTRAKR_HEALTH_URL\"} || exit 1"]

# PID 1 stays root only for cron, which starts every job as `staktrakr`; any other command given
# to `docker run` runs as `staktrakr` too (deploy/entrypoint.sh).
ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/entrypoint.sh"]
CMD ["cron"]
