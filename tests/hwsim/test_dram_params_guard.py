"""The DRAM kernel's divisors are checked before it runs: a memory built around targets'
validators (pydantic's model_copy skips them) is refused in one line, not walked forever.

The kernel is compiled with error_model="numpy", so interleave // burst = 0 would give a
chunk of zero bursts and a walk that never moves on (it hung before this check)."""
import pytest

import targets
from hwsim.errors import HwsimError
from hwsim.memory import DramModel


def _hbm():
    t = targets.load_target("a100")
    return t.memories[t.main_memory]


@pytest.mark.parametrize("update, named", [
    ({"channel_interleave_bytes": 16}, "burst_bytes <= channel_interleave_bytes"),
    ({"channel_interleave_bytes": 1 << 20}, "channel_interleave_bytes <= row_bytes"),
    ({"banks_per_channel": 0}, "banks_per_channel >= 1"),
])
def test_memory_the_walk_cannot_divide_by_is_refused(update, named):
    memory = _hbm().model_copy(update=update)
    with pytest.raises(HwsimError, match=named):
        DramModel(memory).transfer(0.0, 0, 1, 4096, 0, False)


def test_timed_memory_without_a_refresh_interval_is_refused():
    u280 = targets.load_target("flightllm-u280")
    memory = u280.memories[u280.main_memory]
    assert memory.timing is not None
    broken = memory.model_copy(update={"timing": memory.timing.model_copy(
        update={"trefi_cycles": 0})})
    with pytest.raises(HwsimError, match="trefi_cycles"):
        DramModel(broken).transfer(0.0, 0, 1, 4096, 0, False)


def test_valid_memory_walks():
    # one 4 KiB read on an idle a100 HBM takes at least its bursts' bus time
    memory = _hbm()
    done_s = DramModel(memory).transfer(0.0, 0, 1, 4096, 0, False)
    per_channel_bw = memory.achieved_bandwidth_bytes_per_s / memory.channels
    assert done_s >= memory.burst_bytes / per_channel_bw
