import os
import subprocess
import sys
import tempfile

import pytest

# Under pytest-xdist (.ci/test.sh runs two workers), each worker gets its own temporary root, so
# two workers never build the same RTL configuration into one directory at once (the cosim build
# root lives under tempfile.gettempdir(); subprocesses inherit TMPDIR).
if os.environ.get("PYTEST_XDIST_WORKER"):
    _worker_tmp = os.path.join(tempfile.gettempdir(), f"hwsim-{os.environ['PYTEST_XDIST_WORKER']}")
    os.makedirs(_worker_tmp, exist_ok=True)
    os.environ["TMPDIR"] = _worker_tmp
    tempfile.tempdir = None


def _run(*args, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "hwsim.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, input=stdin, timeout=120)


@pytest.fixture
def hwsim():
    """Run the real command line in a subprocess; returns CompletedProcess."""
    return _run


def pytest_collection_modifyitems(config, items):
    """Long campaigns (the slow fuzz and invariant profiles: tens of minutes) run only when asked
    for with HWSIM_CAMPAIGNS=1; the README's test command runs their fast profiles instead."""
    import os
    if os.environ.get("HWSIM_CAMPAIGNS") == "1":
        return
    skip = pytest.mark.skip(reason="long campaign: run with HWSIM_CAMPAIGNS=1")
    for item in items:  # the marker, not item.keywords: those hold the checkout's folder name
        if item.get_closest_marker("campaign") is not None:
            item.add_marker(skip)
