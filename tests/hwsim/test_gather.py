"""Per-row costs of a compact program worked out on its short program's rows and gathered
(hwsim.program_arrays.per_base_row) are the very numbers the flat program's rows give, bit for
bit; the sums counted on the short program (bytes) equal the sums over every row."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim import energy, service
from hwsim.program_arrays import base_of, flatten, per_base_row
from hwsim.roofline import _row_resource, _row_seconds, program_bound, rate_per_row
from hwsim.timing.gpu_waves import add_wave_time
from targets.loader import load_target

CASES = [("a100", "prefill"), ("h100", "prefill"), ("flightllm-u280", "decode"),
         ("mllm-npu-sd8gen3", "prefill")]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def pair(request):
    """(target, the compact program's arrays, the flat program's arrays, its metadata)."""
    preset, phase = request.param
    target = load_target(preset)
    model = replace(load_model("tiny-llama"), num_layers=12)
    compact = compile_model(model, Workload(phase=phase, seq=48, context=40), target,
                            compact=True).program
    assert compact.copies > 0
    return target, flatten(compact), flatten(compact.flatten()), compact.metadata


def _same(x: np.ndarray, y: np.ndarray) -> bool:
    """Equal values, dtype and bits (a float computed another way may differ in its last)."""
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def test_the_map_repeats_every_base_row(pair):
    _, a, flat, _ = pair
    assert a.base is not None and flat.base is None and len(a.src) == len(flat)
    assert len(a.base) < len(a) and np.array_equal(np.unique(a.src), np.arange(len(a.base)))
    for name in ("m", "n", "k", "count", "rows", "row_bytes", "dram_stride_bytes"):
        assert _same(a.base.fields[name][a.src], flat.fields[name])
    # the extents are built when first read, and then equal the flat program's
    assert "ext_row" not in a.__dict__
    for name in ("ext_row", "ext_buf", "ext_bytes", "ext_write"):
        assert _same(getattr(a, name), getattr(flat, name)), name


def test_gathered_per_row_costs_equal_the_flat_rows(pair):
    target, a, flat, metadata = pair
    base_units = service.unit_of_rows(base_of(a), target)
    units = service.unit_of_rows(flat, target)
    assert np.array_equal(per_base_row(a, lambda b: service.unit_index(base_units)[1]),
                          service.unit_index(units)[1])
    checks = {
        "service_seconds": (lambda x, u: service.service_seconds(x, target, u)),
        "macs": (lambda x, u: service.macs(x)),
        "vector_ops": (lambda x, u: service.vector_ops(x)),
        "dequant_weights": (lambda x, u: service.dequant_weights(x)),
        "buffer_seconds": (lambda x, u: service._buffer_seconds(x, target)),
        "rate_per_row": (lambda x, u: rate_per_row(x, target, u)),
        "roofline row seconds": (lambda x, u: _row_seconds(x, target, u)),
        "roofline row resource": (lambda x, u: _row_resource(x, u)),
        "energy terms": (lambda x, u: energy._compute_terms(x, target.energy, u)[0]),
    }
    for name, values_of in checks.items():
        assert _same(per_base_row(a, values_of, base_units), values_of(flat, units)), name


def test_a_cost_that_reads_addresses_is_not_the_same_gathered(pair):
    """The comparison above can fail: a row's off-chip address moves from copy to copy, so
    a value read from it differs once gathered from the base."""
    _, a, flat, _ = pair
    if not (a.fields["dram_addr"] != a.base.fields["dram_addr"][a.src]).any():
        pytest.skip("no address moves in this program")
    address = (lambda x: x.fields["dram_addr"] * 1.0)
    assert not _same(per_base_row(a, address), address(flat))


def test_sums_and_bounds_equal_the_flat_rows(pair):
    """Byte sums counted on the base times repeats, the energy's ordered sum over the gathered
    terms, the roofline and the wave-quantized service: identical to the flat program's."""
    target, a, flat, metadata = pair
    base_units = service.unit_of_rows(base_of(a), target)
    units = service.unit_of_rows(flat, target)
    n = len(target.buffers)
    for x, y in zip(energy.buffer_bytes(a, n), energy.buffer_bytes(flat, n)):
        assert _same(x, y)
    assert energy.dram_bytes(a) == energy.dram_bytes(flat)
    assert energy.energy_breakdown(a, target, base_units, 1e-3) == \
        energy.energy_breakdown(flat, target, units, 1e-3)
    got, want = program_bound(a, target, base_units), \
        program_bound(flat, target, units)
    for key in ("roofline_s", "bound", "per_resource_s", "per_op_s", "per_op_resource"):
        assert got[key] == want[key], key
    names, index = service.unit_index(units)
    plain = service.service_seconds(flat, target, units)
    waved = add_wave_time(metadata, a, plain, target, names, index, None)
    assert _same(waved, add_wave_time(metadata, flat, plain, target, names, index, None))
    if target.name in ("a100", "h100"):  # the GPU presets quantize waves: rows did change
        assert (waved != plain).any()
