import subprocess
import sys

import pytest


def _run(*args, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "hwsim.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, input=stdin, timeout=120)


@pytest.fixture
def hwsim():
    """Run the real command line in a subprocess; returns CompletedProcess."""
    return _run
