import subprocess
import sys

import pytest
import yaml

from compiler.frontend import load_model
from hwsim.sweep import run_sweep


def write_spec(folder, body: dict, name: str = "spec.yaml") -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return str(path)


def sweep(spec_path, output, **kwargs):
    """run_sweep in this process, quiet, with the front end's model check (as the CLI does)."""
    return run_sweep(str(spec_path), str(output), check_model=load_model, progress=False,
                     **kwargs)


def hwsim_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "hwsim", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def spec_file(tmp_path):
    return lambda body, name="spec.yaml": write_spec(tmp_path, body, name)
