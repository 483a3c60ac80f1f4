"""Pareto fronts on hand-made data, the front worked out by hand."""
import json

import pytest

from hwsim.cli.main import main
from hwsim.errors import HwsimError
from hwsim.sweep.pareto import front_indices, goals

# (point, joules_per_token, tokens_per_s, error)
DATA = [(0, 1.0, 10.0, ""), (1, 2.0, 30.0, ""), (2, 2.0, 20.0, ""), (3, 3.0, 30.0, ""),
        (4, 4.0, 50.0, ""), (5, 0.5, 5.0, ""), (6, 5.0, 40.0, ""), (7, 0.1, 99.0, "boom"),
        (8, 4.0, 50.0, "")]
# By hand, lower J/token and higher tokens/s better: 5 (0.5, 5) is the cheapest; 0 (1, 10)
# beats it on speed; 1 (2, 30) beats 2 (same cost, slower) and 3 (dearer, as fast);
# 4 and 8 tie at (4, 50) and both stay; 6 is dearer and slower than 4; 7 is an error row.
FRONT = [5, 0, 1, 4, 8]


def write(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("point,key,model,joules_per_token,tokens_per_s,error\n" + "".join(
        f"{p},k{p},m{p % 2},{x},{y},{e}\n" for p, x, y, e in DATA))
    return path


def test_front_by_hand():
    xs = [x for _, x, _, e in DATA if not e]
    ys = [y for _, _, y, e in DATA if not e]
    points = [p for p, _, _, e in DATA if not e]
    assert [points[i] for i in front_indices(xs, ys)] == FRONT


def test_directions_flip():
    xs, ys = [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]
    assert front_indices(xs, ys, "min", "max") == [0, 1, 2]   # a trade-off everywhere
    assert front_indices(xs, ys, "min", "min") == [0]
    assert front_indices(xs, ys, "max", "max") == [2]
    assert goals("a", "b", maximize=["a"]) == {"a": "max", "b": "max"}
    with pytest.raises(HwsimError, match="--minimize c: not one of the plotted columns"):
        goals("a", "b", minimize=["c"])


def test_cli_json_and_plot(tmp_path, capsys):
    path = write(tmp_path)
    png = tmp_path / "front.png"
    assert main(["pareto", str(path), "--x", "joules_per_token", "--y", "tokens_per_s",
                 "--json", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["point"] for r in out["front"]] == FRONT
    assert (out["points"], out["skipped"]) == (8, 1)
    assert out["goals"] == {"joules_per_token": "min", "tokens_per_s": "max"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_table_and_bad_column(tmp_path, capsys):
    path = write(tmp_path)
    assert main(["pareto", str(path), "--x", "tokens_per_s", "--y", "joules_per_token",
                 "--maximize", "tokens_per_s", "--minimize", "joules_per_token"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == (f"Pareto front of {path}: 5 of 8 points (tokens_per_s: "
                                    "maximised, joules_per_token: minimised; 1 row skipped)")
    assert main(["pareto", str(path), "--x", "joules", "--y", "tokens_per_s"]) == 2
    assert capsys.readouterr().err == (f"hwsim: error: {path}: no column 'joules' (columns: "
                                       "point, key, model, joules_per_token, tokens_per_s, "
                                       "error)\n")
