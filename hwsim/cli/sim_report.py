"""The table `hwsim simulate` and `hwsim demo` print: what was run (precisions and context
stated), time with the clock behind `cycles`, energy and average power, achieved DRAM bandwidth
against peak, busy units, and where the step's time goes in parts that add up to it."""
from __future__ import annotations

from hwsim.cli.common import si


def _header(r: dict) -> str:
    shape = (f"seq {r['seq']}" if r["phase"] == "prefill" else
             f"context {r['context']}" if r["phase"] == "decode" else
             f"seq {r['seq']}, gen {r.get('tokens', 0) // max(1, r['batch'])}")
    kv = f", KV {r['kv_bits']}-bit" if "kv_bits" in r else ""
    return (f"{r['model']} on {r['target']}: {r['phase']}, batch {r['batch']}, {shape}, "
            f"{r['quant']}{kv}")


def _energy(r: dict, x: dict) -> list[str]:
    if not r["energy_j"]:
        return ["  energy      not modelled for the processor that ran"]
    e = r["energy_breakdown_j"]
    return [f"  energy      {r['energy_j']:10.4f} J   {r['joules_per_token']:.4f} J/token   "
            f"{r['tokens_per_joule']:.2f} tokens/J   average {x['average_w']:.1f} W",
            "  energy by component: " + ", ".join(f"{k} {100 * v / r['energy_j']:.1f} %"
                                                  for k, v in e.items() if v)]


def _dram(x: dict) -> list[str]:
    if x["dram_bytes_per_s"] is None:
        return []
    return [f"  DRAM        {si(x['dram_bytes_per_s'], 'B/s')} achieved of "
            f"{si(x['dram_peak_bytes_per_s'], 'B/s')} peak "
            f"({100 * x['dram_bytes_per_s'] / x['dram_peak_bytes_per_s']:.0f} %)"]


def _split(r: dict, x: dict) -> list[str]:
    split = x["time_split_s"]
    if not split:
        busy = ", ".join(f"{k} {100 * v:.0f} %" for k, v in r["utilization"].items())
        what = "the last decode step" if r["phase"] == "generate" else "the run"
        return [f"  busy (fractions of {what}; units overlap, so they need not add up to "
                f"100 %): {busy}"]
    total = sum(split.values())
    parts = ", ".join(f"{k} {v * 1e3:.3f} ms ({100 * v / total:.0f} %)"
                      for k, v in sorted(split.items(), key=lambda kv: -kv[1]) if v > 0)
    busy = ", ".join(f"{k} {100 * v:.0f} %" for k, v in r["utilization"].items()
                     if k == "memory" or k in x["units"])
    return [f"  where the time goes (adds up to {total * 1e3:.3f} ms): {parts}",
            f"  busy per unit (overlapping, fractions of the step): {busy}"]


def simulate_table(result, explained: dict) -> str:
    """result: an api Result; explained: api.explain(result, target)."""
    r, x = result.to_dict(), explained
    clock = f"{r['cycles']:,} cycles of {x['cycles_clock']} at {si(x['cycles_clock_hz'], 'Hz')}"
    lines = [_header(r),
             f"  time        {r['seconds'] * 1e3:10.3f} ms  ({clock})",
             f"  throughput  {r['tokens_per_s']:10.2f} tokens/s", *_energy(r, x),
             *_dram(x), *_split(r, x)]
    if r["roofline_seconds"]:
        lines.append(f"  roofline    {r['roofline_seconds'] * 1e3:10.3f} ms ({r['bound']}-bound);"
                     f" simulated / roofline = {r['seconds'] / r['roofline_seconds']:.2f}")
    if "ttft_s" in r:
        lines.append(f"  TTFT {r['ttft_s'] * 1e3:.2f} ms, TPOT {r['tpot_s'] * 1e3:.3f} ms")
    lines += _reuse(r.get("reuse"))
    return "\n".join(lines) + "\n"


def _reuse(reuse: dict | None) -> list[str]:
    """The JSON's `reuse`: how many decoder layers' timing was copied, from where, or why not."""
    if not reuse:
        return []
    if not reuse["layers_reused"]:
        return [f"  layer reuse none of {reuse['layers']} layers: {reuse['reason']}"]
    spans = ", ".join(f"{first}-{last} from {source}" for first, last, source in reuse["reused"])
    return [f"  layer reuse {reuse['layers_reused']} of {reuse['layers']} layers' timing copied "
            f"({spans})"]
