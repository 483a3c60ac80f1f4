"""Roofline plot (PNG bytes) with matplotlib, an optional extra: pip install 'hwsim[plot]'."""
from __future__ import annotations

import io

from hwsim.errors import HwsimError


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend, or one line saying how to install it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise HwsimError("--plot needs matplotlib: pip install 'hwsim[plot]'") from None
    return plt


def png_bytes(fig) -> bytes:
    """Render a figure to PNG bytes and release it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    pyplot().close(fig)
    return buf.getvalue()


def roofline_png(result: dict, target) -> bytes:
    plt = pyplot()
    bw = target.memories[target.main_memory].bandwidth_bytes_per_s
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    peaks = sorted({r["peak_flops_per_s"] for r in result["ops"] if r["peak_flops_per_s"]})
    xs = [10 ** (i / 10) for i in range(-30, 51)]
    for peak in peaks[-3:]:
        ax.plot(xs, [min(peak, bw * x) for x in xs], lw=1.5,
                label=f"peak {peak / 1e12:.3g} TFLOP/s, {bw / 1e9:.0f} GB/s")
    for r in result["ops"]:
        if r["bytes"] and r["flops"] and r["roofline_s"]:
            ax.scatter(r["flops"] / r["bytes"], r["flops"] / r["roofline_s"], s=8,
                       color="tab:red" if r["bound"] == "memory" else "tab:blue", alpha=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("attainable FLOP/s")
    ax.set_title(f"{result['model']} on {result['target']} ({result['phase']})")
    ax.legend(fontsize=7)
    return png_bytes(fig)
