"""Sweep rows on disk, safe against a kill at any moment.

While a sweep runs, finished rows go to OUTPUT.partial (CSV, header first): each batch in one
append-mode write followed by fsync, so a SIGKILL can tear at most the last line, and a resume
drops a last line that has no newline. When every point is done, the rows are sorted by point
index into OUTPUT (CSV, or Parquet when the name ends in .parquet), written to a temporary file
beside it and renamed, and the .partial is removed: OUTPUT itself is never half-written.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile

from hwsim.errors import HwsimError

JOURNAL_SUFFIX = ".partial"
TEXT_COLUMNS = {"key", "model", "target", "tier", "phase", "quant", "sparsity", "bound",
                "quant_used", "utilization", "error"}   # text in Parquet even when digits
INT_COLUMNS = {"point", "batch", "seq", "context", "gen", "kv_bits", "layers", "cycles",
               "instructions"}                           # int64 in Parquet even when all empty


def format_value(value) -> str:
    """One CSV cell: '' for none, shortest round-trip repr for floats, JSON for containers,
    true/false for booleans (as --set writes them), text on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def format_row(point, result: dict, columns) -> list[str]:
    values = {"point": point.index, "key": point.key, "model": point.model,
              "target": point.target, "tier": point.tier, **point.workload, **point.overrides,
              **result}
    return [format_value(values.get(c)) for c in columns]


def csv_lines(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


class RowStore:
    """The journal and the final file of one sweep output."""

    def __init__(self, output: str, columns):
        self.output, self.journal = output, output + JOURNAL_SUFFIX
        self.columns = list(columns)
        self.parquet = output.lower().endswith(".parquet")
        self.dropped = 0        # torn or malformed lines found on resume
        self._fd = None
        if self.parquet:
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise HwsimError(f"{output}: Parquet output needs pyarrow: "
                                 "pip install pyarrow") from None

    def open(self, plan, resume: bool) -> set[str]:
        """Start the journal; with `resume`, carry over the rows of OUTPUT and of its journal
        that belong to this plan. Returns the keys of the points already done."""
        kept, foreign = {}, []
        rows = []
        if resume and os.path.exists(self.output):
            rows += self._read_output()
        if resume and os.path.exists(self.journal):
            rows += self._read_csv(self.journal)
        for row in rows:
            point = plan.by_key.get(row[1])
            if point is None:
                foreign.append(row)
                continue
            row[0] = str(point.index)   # the spec may have been reordered; inputs decide
            kept.setdefault(point.key, row)
        if foreign:
            raise HwsimError(f"{self.output}: {len(foreign)} rows are not points of this spec "
                             f"(first: point {foreign[0][0]}, key {foreign[0][1]}); write to a "
                             "new output or leave out --resume")
        text = csv_lines([self.columns, *kept.values()]).encode("utf-8")
        replace_atomic(self.journal, lambda f: f.write(text))
        self._fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND)
        return set(kept)

    def append(self, rows: list[list[str]]) -> None:
        """Append finished rows in one write, then fsync (a kill tears at most the last line)."""
        data = memoryview(csv_lines(rows).encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)

    def finish(self) -> int:
        """Sort the journal's rows by point index into OUTPUT; returns the number of rows."""
        self.close()
        rows = sorted(self._read_csv(self.journal), key=lambda r: int(r[0]))
        if self.parquet:
            table = typed_table(self.columns, rows)
            import pyarrow.parquet as pq
            replace_atomic(self.output, lambda f: pq.write_table(table, f))
        else:
            text = csv_lines([self.columns, *rows]).encode("utf-8")
            replace_atomic(self.output, lambda f: f.write(text))
        os.unlink(self.journal)
        return len(rows)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _read_csv(self, path: str) -> list[list[str]]:
        with open(path, "rb") as handle:
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]
        self.dropped += complete != data
        lines = complete.decode("utf-8", errors="replace").split("\n")[:-1]
        if not lines:
            return []
        if next(csv.reader([lines[0]])) != self.columns:
            raise HwsimError(f"{path}: its columns are not this spec's; write to a new output "
                             "or leave out --resume")
        rows = []
        for line in lines[1:]:
            try:
                row = next(csv.reader([line], strict=True))
            except (csv.Error, StopIteration):
                row = None
            if row is None or len(row) != len(self.columns) or "\x00" in line or \
                    not row[0].isdigit():
                self.dropped += 1
                continue
            rows.append(row)
        return rows

    def _read_output(self) -> list[list[str]]:
        if not self.parquet:
            return self._read_csv(self.output)
        import pyarrow.parquet as pq
        table = pq.read_table(self.output)
        if table.column_names != self.columns:
            raise HwsimError(f"{self.output}: its columns are not this spec's; write to a new "
                             "output or leave out --resume")
        return [[format_value(r[c]) for c in self.columns] for r in table.to_pylist()]


def typed_table(columns: list[str], rows: list[list[str]]):
    """CSV text cells -> a pyarrow table with one type per column: bool, int64, float64 (a mix
    of integers and reals; a column with no value, e.g. energy in the roofline tier), else
    string; '' is null."""
    import pyarrow as pa
    arrays = []
    for j, name in enumerate(columns):
        cells = [r[j] for r in rows]
        values = cells if name in TEXT_COLUMNS else [parse_cell(c) for c in cells]
        kinds = {type(v) for v in values if v not in (None, "")}
        if not kinds and name not in TEXT_COLUMNS:
            kinds = {int} if name in INT_COLUMNS else {float}
        if kinds == {bool}:
            arrays.append(pa.array(values, pa.bool_()))
        elif kinds and kinds <= {int}:
            arrays.append(pa.array(values, pa.int64()))
        elif kinds and kinds <= {int, float}:
            arrays.append(pa.array([None if v is None else float(v) for v in values],
                                   pa.float64()))
        else:
            arrays.append(pa.array([c if c != "" else None for c in cells], pa.string()))
    return pa.table(arrays, names=columns)


def parse_cell(cell: str):
    if cell == "":
        return None
    if cell in ("true", "false"):
        return cell == "true"
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        return float(cell)
    except ValueError:
        return cell


def replace_atomic(path: str, write) -> None:
    """Call write(binary file) on a temporary file beside `path`, fsync, rename over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        os.fchmod(fd, 0o666 & ~_umask())    # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
