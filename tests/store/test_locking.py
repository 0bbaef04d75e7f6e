"""pyturso locks the database file per process: a second process must wait, not fail."""

import threading
import time

from ..conftest import staktrakr


def test_another_process_waits_for_the_lock_instead_of_failing(db):
    released = threading.Event()

    def hold_for_a_while():
        with db.held():
            db.execute("INSERT INTO poller_runs (run_id, poller_id, job, started_at, status) VALUES ('t-1', 'test', 'retail', '2026-01-01T00:00:00.000Z', 'running')")
            db.commit()
            time.sleep(1.5)
        released.set()

    holder = threading.Thread(target=hold_for_a_while)
    holder.start()
    time.sleep(0.2)
    started = time.monotonic()
    status = staktrakr("db", "status", "--json")
    waited = time.monotonic() - started
    holder.join()
    assert status.returncode == 0, status.stderr
    assert '"poller_runs": 1' in status.stdout
    assert released.is_set() and waited >= 1.0


def test_the_lock_is_released_between_units_of_work(db):
    db.execute("INSERT INTO poller_runs (run_id, poller_id, job, started_at, status) VALUES ('t-2', 'test', 'spot', '2026-01-01T00:00:00.000Z', 'ok')")
    status = staktrakr("db", "status", "--json")  # our handle is still alive, but not holding the file
    assert status.returncode == 0 and '"poller_runs": 1' in status.stdout
