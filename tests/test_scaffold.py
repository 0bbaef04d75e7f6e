import os
import subprocess
import sys

from .conftest import staktrakr


def test_new_dealer_skeleton_is_green_on_first_run(tmp_path):
    done = staktrakr("new-dealer", "acme", "--root", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "plugins/dealers/acme.py").exists()
    # In a clone, --root is the installed tree: plugins/dealers/ is staktrakr.plugins.dealers. Here
    # the root is a temporary folder, so its dealers/ joins that package's path for the run.
    (tmp_path / "conftest.py").write_text(
        f"import staktrakr.plugins.dealers as dealers\n\ndealers.__path__.insert(0, {str(tmp_path / 'plugins' / 'dealers')!r})\n",
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "tests/dealers/test_acme.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    again = staktrakr("new-dealer", "acme", "--root", str(tmp_path))
    assert again.returncode == 1 and "not overwriting" in again.stderr


def test_bad_dealer_name():
    done = staktrakr("new-dealer", "Acme Bullion!")
    assert done.returncode == 1 and "lower-case" in done.stderr and "Traceback" not in done.stderr
