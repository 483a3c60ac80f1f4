"""Issue 16, cause 3: whatever its source, a program is verified against the target (and its
metadata checked) before it is simulated: a dropped token, a unit the target lacks, sparsity
0, an oversized transfer or a META of the wrong shape is one HwsimError line, not a
RuntimeError, a crash or a 52 s run."""
import time

import pytest

import targets
from hwsim.errors import HwsimError
from hwsim.simulate import simulate_program
from isa import Program, assemble
from tests.isa.test_verify import VALID  # the verifier suite's valid U280 program

U280 = targets.load_target("flightllm-u280")
REFUSED = "program fails verification on flightllm-u280: "


def _simulate(text: str, metadata=None):
    program = assemble(text)
    if metadata is not None:
        program = Program(program.target_name, program.target_fingerprint, program.streams,
                          metadata)
    return simulate_program(program, U280, 1)


def test_the_valid_program_simulates():
    assert _simulate(VALID)["seconds"] > 0


@pytest.mark.parametrize("change, message", [
    (("release=MV", ""), "unbalanced tokens LD->MV: LD releases 0, MV waits for 1"),
    (("count=1 wait=LD", "count=1 unit=3 wait=LD"),
     "GEMV at MV[0]: unit 3 does not exist; target flightllm-u280 has 1 unit(s) serving MV"),
    (("count=1 wait=LD", "count=1 sparse_mode=nm sparse_n=2 sparse_m=0 wait=LD"),
     "GEMV at MV[0]: sparsity 2:0 needs 1 <= M and N <= M"),
    (("STORE buf=2 dtype=int32 rows=1 row_bytes=512",
      "STORE buf=2 dtype=int32 rows=60000 row_bytes=60000 sram_stride_bytes=1"),
     "STORE at ST[0]: sram_stride_bytes = 1 is less than row_bytes = 60000; on-chip rows must "
     "not overlap"),
])
def test_a_broken_program_is_refused_before_it_runs(change, message):
    start = time.monotonic()
    with pytest.raises(HwsimError) as err:
        _simulate(VALID.replace(*change))
    assert str(err.value) == REFUSED + message
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("metadata, message", [
    ({"ops": "x"}, "metadata ops must be a list, not str"),
    ({"ops": [{"name": "a", "first": {"LD": 1}, "count": {"LD": 5}}]},
     "metadata ops[0].count.LD must be an integer in [0, 1], not 5"),
    ({"ops": [{"name": "a", "first": [], "count": {}}]},
     "metadata ops[0].first must be an object of queue name -> integer"),
    ({"pim_channels": {"regions": [[0, 0, [1]]]}},
     "metadata pim_channels.regions[0] bytes must be an integer in [1, 9223372036854775807], "
     "not 0"),
    ({"cross_channel_ranges": [[0]]}, "metadata cross_channel_ranges[0] must be [address, bytes]"),
])
def test_metadata_of_the_wrong_shape_is_refused(metadata, message):
    with pytest.raises(HwsimError) as err:
        _simulate(VALID, metadata)
    assert str(err.value) == message


@pytest.mark.parametrize("workload, message", [
    ([1], "p.hwx: metadata workload must be an object, not list"),
    ({"phase": "train", "batch": 1, "seq": 1},
     "p.hwx: metadata workload.phase 'train' is not one of prefill, decode"),
    ({"phase": "decode", "batch": 0, "seq": 1},
     "p.hwx: metadata workload.batch must be an integer in [1, 1048576], not 0"),
    ({"phase": "prefill", "batch": 1, "seq": "16"},
     "p.hwx: metadata workload.seq must be an integer in [1, 16777216], not '16'"),
])
def test_a_workload_of_the_wrong_shape_is_refused(workload, message):
    from hwsim.program_meta import workload_of
    program = Program("flightllm-u280", metadata={"workload": workload})
    with pytest.raises(HwsimError) as err:
        workload_of(program, "p.hwx")
    assert str(err.value) == message
