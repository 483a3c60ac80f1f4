"""The public Python API of hwsim (also re-exported from `hwsim`), and below it the flows that
combine the compiler and the simulator (hwsim.api.flows, hwsim.api.papers).

    import hwsim
    r = hwsim.simulate("llama2-7b", "a100", phase="decode", context=512)
    r.tokens_per_s, r.joules_per_token, r.to_dict(), r.to_frame()

Every function takes names, paths or loaded objects; records have units in their field names;
`to_dict()` is what the CLI's `--json` prints; errors are `hwsim.HwsimError` with the CLI's
one-line message. See docs/api.md. Importing this package loads neither the compiler nor the
simulator: each function imports what it runs.
"""
from hwsim.api.calls import (assemble, check, compile, compile_summary, cosim, demo, explain,
                             fit, inspect, kernel, kernel_shapes, load_model, load_target, papers,
                             pareto, pareto_png, roofline, simulate, sweep, target_label,
                             validate, workload)
from hwsim.api.fit_record import Fit
from hwsim.api.listing import models
from hwsim.api.result import Result, Roofline, dumps_json, frame
from hwsim.errors import HwsimError

__all__ = ["simulate", "roofline", "compile", "inspect", "fit", "Fit", "load_target", "load_model", "kernel",
           "check", "assemble", "demo", "explain", "sweep", "pareto", "pareto_png", "cosim", "workload", "compile_summary", "models", "papers",
           "target_label", "kernel_shapes", "validate", "Result", "Roofline", "frame", "dumps_json",
           "HwsimError"]
