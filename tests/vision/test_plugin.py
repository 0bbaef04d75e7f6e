"""The vision plugin's face: listed with the plugins, `staktrakr vision read`, screenshot folders."""

import json
import os
import time

from staktrakr_samples.gemini import Behaviour, GeminiStandIn
from staktrakr.plugins.vision.screenshots import prune_runs

from ..conftest import FIXTURES, staktrakr

SCREENSHOT = FIXTURES / "vision" / "apmex-ase.png"


def test_vision_is_a_built_in_plugin():
    listed = staktrakr("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    vision = next(p for p in json.loads(listed.stdout) if p["name"] == "staktrakr.plugins.vision")
    # One package, plugged in through hooks only: nothing of it is left in the core.
    assert vision["origin"] == "built-in" and set(vision["hooks"]) == {
        "staktrakr_cli_commands", "staktrakr_config_fields", "staktrakr_default_settings", "staktrakr_crawl_components",
        "staktrakr_migrations", "staktrakr_run_figures", "staktrakr_run_finished",
    }  # fmt: skip


def test_vision_read_shows_the_reading_and_the_decision():
    with GeminiStandIn() as gemini:
        env = {"GEMINI_API_KEY": gemini.config.api_key, "GEMINI_BASE_URL": gemini.base_url}
        url = "https://www.apmex.com/apmex/ase.html"
        agreed = staktrakr("vision", "read", "--vendor", "apmex", "--coin", "ase", "--screenshot", str(SCREENSHOT),
                           "--url", url, "--price", "94.19", "--json", env=env)  # fmt: skip
        gemini.config.default = Behaviour(price=120.0)
        told = staktrakr("vision", "read", "--vendor", "apmex", "--coin", "ase", "--screenshot", str(SCREENSHOT),
                         "--url", url, "--price", "94.19", env=env)  # fmt: skip
    assert agreed.returncode == 0, agreed.stderr
    result = json.loads(agreed.stdout)
    assert result["reading"]["price"] == 94.19 and result["decision"]["confidence"] == 99
    assert result["decision"]["source"] == "firecrawl+vision" and result["tokens"] > 1000
    assert told.returncode == 0 and "kept the page price (no other dealer to compare)" in told.stdout
    assert gemini.config.api_key not in agreed.stdout + agreed.stderr + told.stdout + told.stderr


def test_vision_read_without_a_key_is_one_message():
    done = staktrakr("vision", "read", "--vendor", "apmex", "--coin", "ase", "--screenshot", str(SCREENSHOT))
    assert done.returncode == 2 and "GEMINI_API_KEY is not set" in done.stderr and "Traceback" not in done.stderr


def test_old_screenshot_folders_are_pruned(tmp_path):
    now = time.time()
    for n in range(7):
        run = tmp_path / f"test-run-{n}"
        run.mkdir()
        (run / "ase_apmex.png").write_bytes(b"png")
        os.utime(run, (now - 1000 + n, now - 1000 + n))
    assert prune_runs(tmp_path, keep=5) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"test-run-{n}" for n in range(2, 7)]
    assert prune_runs(tmp_path / "missing", keep=5) == 0
