"""The Pareto front of sweep results over two columns, and its plot.

Direction: x is minimised and y maximised unless told otherwise (`--x joules_per_token --y
tokens_per_s` asks for the cheapest and fastest designs); `--maximize COL` / `--minimize COL`
flip either column. A point is on the front when no other point is at least as good in both
columns and strictly better in one; points with equal (x, y) on the front are all kept.
Rows with an error, or an empty or non-numeric x or y, are skipped and counted.
"""
from __future__ import annotations

import csv
import math

from hwsim.errors import HwsimError
from hwsim.plot import png_bytes, pyplot
from hwsim.sweep.store import parse_cell


def read_results(path: str) -> tuple[list[str], list[dict]]:
    """(columns, rows) of a sweep output, CSV or Parquet; CSV cells parsed to numbers."""
    if path.lower().endswith(".parquet"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise HwsimError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow") \
                from None
        try:
            table = pq.read_table(path)
        except OSError as err:
            raise HwsimError(f"{path}: not a readable Parquet file: {err}") from None
        return table.column_names, table.to_pylist()
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            columns = next(reader, None)
            if not columns:
                raise HwsimError(f"{path}: empty results file (no header)")
            rows = [dict(zip(columns, map(parse_cell, r))) for r in reader
                    if len(r) == len(columns)]
    except UnicodeDecodeError as err:
        raise HwsimError(f"{path}: not a UTF-8 text file (byte {err.start}); a sweep output is "
                         "CSV or .parquet") from None
    except csv.Error as err:
        raise HwsimError(f"{path}: not a CSV file: {err}") from None
    return columns, rows


def goals(x: str, y: str, minimize=(), maximize=()) -> dict:
    """{x: 'min', y: 'max'} by default, changed by the columns named in minimize / maximize."""
    if x == y:
        raise HwsimError(f"--x and --y are both {x!r}; pick two columns")
    chosen = {x: "min", y: "max"}
    for goal, names in (("min", minimize), ("max", maximize)):
        for name in names:
            if name not in chosen:
                raise HwsimError(f"--{goal}imize {name}: not one of the plotted columns "
                                 f"({x}, {y})")
            chosen[name] = goal
    both = set(minimize) & set(maximize)
    if both:
        raise HwsimError(f"{sorted(both)[0]} is given to both --minimize and --maximize")
    return chosen


def front_indices(xs: list[float], ys: list[float], x_goal: str = "min",
                  y_goal: str = "max") -> list[int]:
    """Indices of the non-dominated points, by increasing x."""
    a = [v if x_goal == "min" else -v for v in xs]
    b = [v if y_goal == "min" else -v for v in ys]
    order = sorted(range(len(a)), key=lambda i: (a[i], b[i]))
    front, best_before, k = [], math.inf, 0
    while k < len(order):
        group = [order[k]]
        while k + len(group) < len(order) and a[order[k + len(group)]] == a[order[k]]:
            group.append(order[k + len(group)])
        k += len(group)
        lowest = min(b[i] for i in group)
        if lowest < best_before:
            front += [i for i in group if b[i] == lowest]
            best_before = lowest
    return sorted(front, key=lambda i: (xs[i], ys[i]))


def pareto(path: str, x: str, y: str, minimize=(), maximize=()) -> dict:
    """The front of the results in `path` over columns x and y (see the module docstring)."""
    columns, rows = read_results(path)
    for name in (x, y):
        if name not in columns:
            raise HwsimError(f"{path}: no column {name!r} (columns: {', '.join(columns)})")
    chosen = goals(x, y, minimize, maximize)
    for name in (x, y):
        _require_numbers(path, name, [r for r in rows if not r.get("error")])
    valid = [r for r in rows if not r.get("error") and _number(r.get(x)) and _number(r.get(y))]
    xs, ys = [float(r[x]) for r in valid], [float(r[y]) for r in valid]
    on_front = front_indices(xs, ys, chosen[x], chosen[y])
    return {"results": path, "x": x, "y": y, "goals": chosen, "points": len(valid),
            "skipped": len(rows) - len(valid), "varying": varying_inputs(columns, rows),
            "front": [valid[i] for i in on_front], "xs": xs, "ys": ys}


def varying_inputs(columns: list[str], rows: list[dict]) -> list[str]:
    """Input columns whose value differs among rows: the swept target fields first, then
    model, target and workload fields."""
    from hwsim.sweep.plan import INPUT_COLUMNS, RESULT_COLUMNS
    fields = [c for c in columns if c not in INPUT_COLUMNS and c not in RESULT_COLUMNS]
    inputs = fields + [c for c in INPUT_COLUMNS if c in columns and c not in ("point", "key")]
    return [c for c in inputs if len({repr(r.get(c)) for r in rows}) > 1]


def _require_numbers(path: str, name: str, rows: list[dict]) -> None:
    """A column with values but not one number cannot be ranked: say so, not an empty front."""
    values = [r.get(name) for r in rows if r.get(name) not in (None, "")]
    if values and not any(_number(v) for v in values):
        raise HwsimError(f"{path}: column {name!r} holds no numbers (e.g. {values[0]!r}); "
                         "--x and --y need numeric columns")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def front_png(result: dict) -> bytes:
    """Every valid point in grey, the front in red with the staircase it attains, point
    numbers beside the front when there are few."""
    x, y, goal = result["x"], result["y"], result["goals"]
    fig, ax = pyplot().subplots(figsize=(6, 4), dpi=100)
    ax.scatter(result["xs"], result["ys"], s=10, color="0.65", label="design points")
    fx = [r[x] for r in result["front"]]
    fy = [r[y] for r in result["front"]]
    # the edge of what the front attains: a staircase, not a line through the points
    ax.step(fx, fy, where="post" if goal[x] == "min" else "pre", color="tab:red", lw=1.2)
    ax.plot(fx, fy, "o", color="tab:red", ms=5, label="Pareto front")
    if len(fx) <= 12:
        for r in result["front"]:
            ax.annotate(str(r.get("point", "")), (r[x], r[y]), fontsize=7,
                        textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel(f"{x} ({'lower' if goal[x] == 'min' else 'higher'} is better)")
    ax.set_ylabel(f"{y} ({'lower' if goal[y] == 'min' else 'higher'} is better)")
    ax.set_title(f"Pareto front: {len(fx)} of {result['points']} points")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png_bytes(fig)
