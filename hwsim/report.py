"""Reports of a simulation: JSON (DESIGN.md fields), a table for people, CSV per op, and a
Chrome / Perfetto trace."""
from __future__ import annotations

import csv
import io
import json

import numpy as np

from isa import Queue


def public(result: dict) -> dict:
    """The JSON-able part of a result (no arrays), plain floats, stable key order."""
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items() if not k.startswith("_")}
        if isinstance(v, (np.floating, np.integer)):
            return v.item()
        return v
    return plain(result)


def to_json(result: dict) -> str:
    return json.dumps(public(result), sort_keys=True, indent=2) + "\n"


def table(result: dict) -> str:
    r = public(result)
    e = r["energy_breakdown_j"]
    lines = [f"{r.get('model', '?')} on {r.get('target', '?')}: {r.get('phase', '')} "
             f"batch {r.get('batch', '')}",
             f"  time        {r['seconds'] * 1e3:10.3f} ms  ({r['cycles']:,} cycles)",
             f"  throughput  {r['tokens_per_s']:10.2f} tokens/s",
             f"  energy      {r['energy_j']:10.4f} J   {r['joules_per_token']:.4f} J/token   "
             f"{r['tokens_per_joule']:.2f} tokens/J",
             "  energy by component: " + ", ".join(
                 f"{k} {100 * v / r['energy_j']:.1f} %" for k, v in e.items() if r['energy_j']),
             "  busy: " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in r["utilization"].items()),
             f"  roofline    {r['roofline_seconds'] * 1e3:10.3f} ms ({r['bound']}-bound); "
             f"simulated / roofline = {r['seconds'] / r['roofline_seconds']:.2f}"
             if r["roofline_seconds"] else "  roofline    n/a"]
    if "ttft_s" in r:
        lines.append(f"  TTFT {r['ttft_s'] * 1e3:.2f} ms, TPOT {r['tpot_s'] * 1e3:.3f} ms")
    return "\n".join(lines) + "\n"


def per_op_csv(result: dict) -> str:
    """One row per compiled op: its span, its busy time and its roofline bound."""
    d = result["_detail"]
    a, start, end = d["arrays"], d["start"], d["end"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["op", "instructions", "start_s", "end_s", "busy_s", "roofline_s"])
    for k, name in enumerate(a.op_names):
        sel = a.op_index == k
        if not sel.any():
            continue
        writer.writerow([name, int(sel.sum()), f"{start[sel].min():.9e}", f"{end[sel].max():.9e}",
                         f"{(end[sel] - start[sel]).sum():.9e}",
                         f"{d['roofline']['per_op_s'].get(name, 0.0):.9e}"])
    return out.getvalue()


def chrome_trace(result: dict) -> str:
    """Trace Event Format: one complete event per instruction, one track per queue."""
    d = result["_detail"]
    a, start, end = d["arrays"], d["start"], d["end"]
    events = [{"name": "process_name", "ph": "M", "pid": 0, "args": {"name": "hwsim"}}]
    events += [{"name": "thread_name", "ph": "M", "pid": 0, "tid": int(q),
                "args": {"name": q.name}} for q in Queue]
    names = a.op_names
    for i in range(len(a)):
        op = names[a.op_index[i]] if a.op_index[i] >= 0 else "-"
        events.append({"name": op, "ph": "X", "pid": 0, "tid": int(a.queue[i]),
                       "ts": float(start[i] * 1e6), "dur": float((end[i] - start[i]) * 1e6)})
    return json.dumps({"traceEvents": events, "displayTimeUnit": "ns"}, separators=(",", ":"))
