"""The image: the Dockerfile lints clean, keeps secrets and local state out, and its entry point
gives cron jobs the container's environment. (No container engine here: the entry point's cron
mode is exercised up to the job environment, which is run exactly as cron runs a job.)"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ..conftest import ROOT
from .test_deploy import CRONTABS, SECRETS

DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy/entrypoint.sh"


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    # an ignore must say why, right above it
    for match in re.finditer(r"\n((?:#.*\n)*)# hadolint ignore=(\S+)\n", DOCKERFILE.read_text()):
        assert len(match.group(1).splitlines()) >= 2, f"ignore {match.group(2)} without a reason"


def test_one_image_for_both_pollers_without_secrets() -> None:
    text = DOCKERFILE.read_text()
    instructions = re.sub(r"\\\n\s*", " ", re.sub(r"(?m)^\s*#.*\n", "", text)).splitlines()
    assert instructions[0] == "FROM python:3.11-slim-bookworm"
    apt = next(line for line in instructions if "apt-get install" in line)
    assert {"chromium-headless-shell", "fonts-liberation", "cron"} <= set(apt.split())
    assert "pip install --no-cache-dir /app" in text and "useradd" in text
    # no secret is given a value at build time
    assigned = {m.group(1) for line in instructions if line.startswith(("ENV ", "ARG ")) for m in re.finditer(r"(\w+)=", line)}
    assigned |= {line.split()[1].split("=")[0] for line in instructions if line.startswith("ARG ")}
    assert not assigned & {*SECRETS, "TURSO_DATABASE_URL"}
    healthcheck = next(line for line in instructions if line.startswith("HEALTHCHECK"))
    assert "staktrakr health" in healthcheck
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/entrypoint.sh"]' in instructions
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    # the crontab is chosen at start from POLLER_ROLE, and each role has one
    assert '"$APP_DIR/deploy/crontab.$POLLER_ROLE"' in ENTRYPOINT.read_text() and set(CRONTABS) == {"cloud", "home"}


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "var", ".tools", "**/__pycache__", ".pytest_cache", ".hypothesis", "*.db", ".env"} <= patterns
    # what the build needs is not excluded
    assert not patterns & {"staktrakr", "pyproject.toml", "README.md", "deploy", "scrapy.cfg", "spiders", "plugins", "pipelines"}


def test_entrypoint_is_valid_sh_and_refuses_an_unknown_role() -> None:
    assert subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True).returncode == 0
    for role in ("", "office"):
        done = subprocess.run(["sh", str(ENTRYPOINT), "cron"], env={"PATH": os.environ["PATH"], "POLLER_ROLE": role}, capture_output=True, text=True)
        assert done.returncode == 2 and "POLLER_ROLE to cloud or home" in done.stderr


def test_cron_jobs_get_the_container_environment(tmp_path: Path) -> None:
    """What cron does for the home poller's metrics job, with the job environment the entry point wrote."""
    container_env = {
        "PATH": os.environ["PATH"],
        "POLLER_ID": "wrong-the-crontab-wins",
        "METAL_PRICE_API_KEY": "it's \"quoted\" $HOME `x`",
        "STAKTRAKR_DB": str(tmp_path / "data/staktrakr.db"),
        "STAKTRAKR_API_DIR": str(tmp_path / "data/api"),
    }
    env_file, job_log = tmp_path / ".cron-env", tmp_path / "jobs.log"
    written = subprocess.run(["sh", str(ENTRYPOINT), "cron-env", str(env_file), str(job_log)], env=container_env, capture_output=True, text=True)
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600  # it holds the secrets

    crontab = CRONTABS["home"]
    job = next(j for j in crontab.jobs if "staktrakr metrics" in j.command)
    textfile = tmp_path / "data/metrics/staktrakr.prom"
    command = job.command.replace("/app", str(ROOT)).replace("/data/metrics/staktrakr.prom", str(textfile))
    # cron: the crontab's variables plus HOME and LOGNAME, nothing else; then `$SHELL -c command`.
    # The image's commands are in /usr/local/bin; here they are in the virtualenv.
    job_env = {**crontab.variables, "BASH_ENV": str(env_file), "HOME": str(tmp_path), "LOGNAME": "staktrakr"}
    job_env["PATH"] = f"{Path(sys.executable).parent}:{job_env['PATH']}"
    ran = subprocess.run([job_env["SHELL"], "-c", command], env=job_env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, job_log.read_text() if job_log.exists() else ran.stderr
    assert ran.stdout == "" and ran.stderr == ""  # all output went to the job log ...
    assert job_log.read_text().strip() == f"wrote {textfile}"  # ... which the container prints
    families = {f.name for f in text_string_to_metric_families(textfile.read_text())}
    assert {"staktrakr_database_up", "staktrakr_published_fresh"} <= families

    probe = 'printf "%s\\n%s\\n" "$POLLER_ID" "$METAL_PRICE_API_KEY"'
    subprocess.run([job_env["SHELL"], "-c", probe], env=job_env, check=True)
    assert job_log.read_text().splitlines()[-2:] == ["home", container_env["METAL_PRICE_API_KEY"]]
    assert shlex.quote(container_env["METAL_PRICE_API_KEY"]) in env_file.read_text()
