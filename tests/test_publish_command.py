"""`staktrakr publish` end to end: export from the database, commit and push to a bare repository."""

import json
import subprocess

from staktrakr_samples.server import SampleSites, load_truth, providers_for

from .conftest import scrapy, staktrakr, write_json


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_publish_pushes_the_exported_api(tmp_path):
    remote = tmp_path / "remote.git"
    _git("init", "--bare", "-q", str(remote), cwd=tmp_path)
    truth = [e for e in load_truth() if e["dealer"] in ("apmex", "sdbullion") and not e.get("needs_browser")]
    with SampleSites() as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, truth))
        env = {
            "STAKTRAKR_PROVIDERS": str(providers),
            "API_GIT_REMOTE": str(remote),
            "API_GIT_WORKDIR": str(tmp_path / "clone"),
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
        }
        assert scrapy("crawl", "retail", env=env).returncode == 0
    first = staktrakr("publish", env=env)
    assert first.returncode == 0, first.stderr
    log = _git("log", "--format=%s", "api", cwd=remote)
    assert log.startswith("publish: ") and "| retail=" in log
    files = _git("ls-tree", "-r", "--name-only", "api", cwd=remote).split()
    assert "data/api/manifest.json" in files and "data/api/ase/latest.json" in files
    ase = json.loads(_git("show", "api:data/api/ase/latest.json", cwd=remote))
    assert ase["vendors"]["apmex"]["price"] == next(e["expected"]["price"] for e in truth if e["path"] == "apmex/ase.html")
    again = staktrakr("publish", env=env)
    assert again.returncode == 0 and "nothing to publish" in again.stdout
    assert len(_git("log", "--format=%H", "api", cwd=remote).split()) == 1
