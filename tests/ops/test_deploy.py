"""deploy/: the crontab of each poller, the env examples and the runbook.

Each crontab line must be a 5-field cron line or `VAR=value`, call a command that exists with
arguments it accepts, and the two pollers' schedules must fit together (LIVE-SYSTEM §8)."""

from __future__ import annotations

import inspect
import re
import shlex
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import click
import pytest
from croniter import croniter
from scrapy.settings import Settings, default_settings

import staktrakr.settings as project_settings
from staktrakr.cli import cli
from staktrakr.config import Config, load_section, sections
from staktrakr.plugin_manager import get_plugin_manager
from staktrakr.spiderloader import StaktrakrSpiderLoader

from ..conftest import ENV_VARIABLES, ROOT, scrapy, staktrakr
from . import isolated_env

DEPLOY = ROOT / "deploy"
ROLES = {"cloud": "api", "home": "home"}  # POLLER_ROLE -> POLLER_ID of its rows
SECRETS = ("TURSO_AUTH_TOKEN", "METAL_PRICE_API_KEY", "GEMINI_API_KEY", "PROXY_TIERS", "API_GIT_REMOTE")
_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


@dataclass
class Job:
    schedule: str
    command: str
    line: int

    @property
    def steps(self) -> list[list[str]]:
        """The `&&`-joined commands of the line, each split like the shell does."""
        return [shlex.split(part) for part in self.command.split("&&")]

    def runs(self, *argv: str) -> bool:
        return any(step[: len(argv)] == list(argv) for step in self.steps)


@dataclass
class Crontab:
    variables: dict[str, str] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)

    def jobs_running(self, *argv: str) -> list[Job]:
        return [job for job in self.jobs if job.runs(*argv)]


def parse_crontab(path: Path) -> Crontab:
    crontab = Crontab()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if match := _VAR.match(line):
            value = match.group(2)
            crontab.variables[match.group(1)] = value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"{path.name}:{number}: neither a 5-field cron line nor VAR=value: {raw!r}"
        schedule = " ".join(fields[:5])
        assert croniter.is_valid(schedule), f"{path.name}:{number}: invalid schedule {schedule!r}"
        assert not re.search(r"[;|<>`$]", fields[5]), f"{path.name}:{number}: keep job lines to commands joined by &&"
        crontab.jobs.append(Job(schedule, fields[5], number))
    return crontab


CRONTABS = {role: parse_crontab(DEPLOY / f"crontab.{role}") for role in ROLES}


def fire_times(schedule: str, start: datetime = datetime(2026, 3, 15), days: int = 1) -> set[datetime]:
    times, it = set(), croniter(schedule, start - timedelta(seconds=1))
    while (at := it.get_next(datetime)) < start + timedelta(days=days):
        times.add(at)
    return times


def minutes(jobs: list[Job]) -> set[int]:
    return {at.minute for job in jobs for at in fire_times(job.schedule)}


# -- the lines ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_crontab_sets_up_the_jobs_environment(role: str) -> None:
    crontab = CRONTABS[role]
    entrypoint = (DEPLOY / "entrypoint.sh").read_text()
    assert crontab.jobs
    assert crontab.variables["POLLER_ID"] == ROLES[role]  # every job's rows carry this poller's id
    # bash sources BASH_ENV: the file the entry point writes with the container's environment
    assert crontab.variables["SHELL"] == "/bin/bash"
    assert crontab.variables["BASH_ENV"] == "/home/staktrakr/.cron-env"
    assert 'APP_USER=staktrakr' in entrypoint and 'CRON_ENV="/home/$APP_USER/.cron-env"' in entrypoint
    assert crontab.variables["PATH"].split(":")[0] == "/usr/local/bin"  # where `pip install` puts the commands
    assert crontab.variables["MAILTO"] == ""  # no mail: output goes to the container log


@pytest.fixture(scope="module")
def spider_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    listed = scrapy("list", env=isolated_env(tmp_path_factory.mktemp("list"), "test"))
    assert listed.returncode == 0, listed.stderr[-2000:]
    return set(listed.stdout.split())


def _known_setting(name: str) -> bool:
    return hasattr(default_settings, name) or hasattr(project_settings, name) or name in ENV_VARIABLES


def _check_scrapy(argv: list[str], spiders: set[str], loader: StaktrakrSpiderLoader) -> None:
    assert argv[1] == "crawl" and len(argv) >= 3, argv
    name, rest = argv[2], argv[3:]
    assert name in spiders, f"`scrapy list` has no spider {name!r}"
    spider_args: dict[str, str] = {}
    while rest:
        assert len(rest) >= 2 and rest[0] in ("-a", "-s"), f"scrapy crawl {name}: unexpected arguments {rest}"
        option, value, rest = rest[0], rest[1], rest[2:]
        key, _, val = value.partition("=")
        assert key and _, f"{option} {value}: expected NAME=value"
        if option == "-s":
            assert _known_setting(key), f"-s {key}: no such setting"
        else:
            spider_args[key] = val
    spider = loader.load(name)
    accepted = {
        p.name for cls in spider.__mro__ if "__init__" in vars(cls)
        for p in inspect.signature(cls.__init__).parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD
    } - {"self", "name"}  # fmt: skip
    assert set(spider_args) <= accepted, f"{name} takes -a {sorted(accepted)}, not {sorted(spider_args)}"
    spider(**spider_args)  # validates the values (e.g. `only` must be `failed`)


def _check_staktrakr(argv: list[str]) -> None:
    helped = staktrakr(*argv[1:], "--help")
    assert helped.returncode == 0 and "Usage:" in helped.stdout, helped.stderr
    # Parse the real arguments without running the command: unknown options or bad values raise.
    get_plugin_manager().hook.staktrakr_cli_commands(cli=cli)  # plugins' commands (`alert`), as main() adds them
    command: click.Command | None = cli
    name, args = "staktrakr", argv[1:]
    while isinstance(command, click.Group):
        name, *args = args
        command = command.get_command(click.Context(command), name)
    assert command is not None, f"no command {name!r} in {argv}"
    command.make_context(name, args)


@pytest.mark.parametrize("role", ROLES)
def test_every_job_calls_a_real_command_with_arguments_it_accepts(role: str, spider_names: set[str], config: Config) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    settings = Settings()
    settings.setmodule("staktrakr.settings", priority="project")
    loader = StaktrakrSpiderLoader.from_settings(settings)
    for job in CRONTABS[role].jobs:
        for argv in job.steps:
            if argv[0] == "cd":
                assert argv[1:] == ["/app"] and "WORKDIR /app" in dockerfile and "COPY . /app" in dockerfile
            elif argv[0] == "scrapy":
                _check_scrapy(argv, spider_names, loader)
            elif argv[0] == "staktrakr":
                _check_staktrakr(argv)
            else:
                assert shutil.which(argv[0]), f"crontab.{role}:{job.line}: no command {argv[0]!r}"


# -- the schedule ----------------------------------------------------------------------------------


def test_the_pollers_take_turns() -> None:
    cloud, home = CRONTABS["cloud"], CRONTABS["home"]
    # retail: each poller tries every dealer once an hour, 30 minutes apart, never at the same minute
    cloud_retail, home_retail = cloud.jobs_running("scrapy", "crawl", "retail"), home.jobs_running("scrapy", "crawl", "retail")
    assert minutes([j for j in cloud_retail if "only=failed" not in j.command]) == {0}
    assert minutes([j for j in cloud_retail if "only=failed" in j.command]) == {15}  # the retry pass
    assert minutes(home_retail) == {30}
    cloud_times = set().union(*(fire_times(j.schedule, days=7) for j in cloud_retail))
    home_times = set().union(*(fire_times(j.schedule, days=7) for j in home_retail))
    assert len(home_times) == 7 * 24 and not cloud_times & home_times
    # spot: :00/:30 and :15/:45 interleave to a 15-minute cadence
    cloud_spot, home_spot = minutes(cloud.jobs_running("scrapy", "crawl", "spot")), minutes(home.jobs_running("scrapy", "crawl", "spot"))
    assert cloud_spot == {0, 30} and home_spot == {15, 45}
    every_spot = sorted(at for j in cloud.jobs_running("scrapy", "crawl", "spot") + home.jobs_running("scrapy", "crawl", "spot") for at in fire_times(j.schedule))
    assert {b - a for a, b in zip(every_spot, every_spot[1:])} == {timedelta(minutes=15)} and len(every_spot) == 96
    # publish 8 minutes after each spot slot; Goldback at :01; only the cloud poller does either
    assert minutes(cloud.jobs_running("staktrakr", "publish")) == {(m + 8) % 60 for m in cloud_spot | home_spot} == {8, 23, 38, 53}
    assert minutes(cloud.jobs_running("scrapy", "crawl", "goldback")) == {1}
    assert not home.jobs_running("staktrakr", "publish") and not home.jobs_running("scrapy", "crawl", "goldback")


# -- env examples and runbook -----------------------------------------------------------------------


def _readme_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    assert len(names) >= 15, names
    return names


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        # docker --env-file takes the line literally: a quote or a space would be part of the value
        assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", name) and not value.startswith(("'", '"', " ")), line
        values[name] = value
    return values


@pytest.mark.parametrize("role", ROLES)
def test_env_example_documents_every_variable_and_holds_no_secret(role: str) -> None:
    path = DEPLOY / f"env.{role}.example"
    values = _env_file(path)
    text = path.read_text(encoding="utf-8")
    missing = (_readme_variables() | set(ENV_VARIABLES)) - set(values)
    assert not missing, f"{path.name} does not document {sorted(missing)}"
    for name in values:  # each one explained by the comment line above it
        assert re.search(rf"#[^\n]*\n(#[^\n]*\n)*{name}=", text), f"{name} has no comment"
    assert values["POLLER_ROLE"] == role and values["POLLER_ID"] == ROLES[role]
    assert all(values[name] == "" for name in SECRETS)
    for model in sections().values():  # every example value is valid, in every section
        load_section(model, environ=values)


def test_runbook_explains_every_job_and_the_incidents() -> None:
    runbook = (DEPLOY / "RUNBOOK.md").read_text(encoding="utf-8")
    for role, crontab in CRONTABS.items():
        for job in crontab.jobs:
            command = job.command.removeprefix("cd /app && ")
            assert f"`{command}`" in runbook, f"RUNBOOK.md does not explain `{command}` (crontab.{role})"
    for topic in ("## A dealer is blocked", "## Turso is down", "## Publishing fails", "staktrakr dealers", "staktrakr runs", "/metrics"):
        assert topic in runbook, topic
    for test in ("tests/spiders/test_retail_crawl.py::test_an_overlapping_run_of_the_same_job_is_skipped", "tests/ops/test_locking.py"):
        assert test in runbook and (ROOT / test.split("::")[0]).exists()
