"""`--set dotted.key=value`: any field, typed, re-validated, typos named."""
import pytest

import targets
from targets import TargetError, parse_override


def test_parse_override_types():
    assert parse_override("a.b=3") == (["a", "b"], 3)
    assert parse_override("a.b=3e8") == (["a", "b"], 3e8)
    assert parse_override("a.b=false") == (["a", "b"], False)
    assert parse_override("a.b=[0, 4]") == (["a", "b"], [0, 4])
    assert parse_override("a.b=open") == (["a", "b"], "open")
    with pytest.raises(TargetError, match="expected dotted.key=value"):
        parse_override("a.b")


def test_override_changes_the_field_and_the_fingerprint():
    base = targets.load_target("flightllm-u280")
    fast = targets.load_target("flightllm-u280", ["clocks.core.freq_hz=450e6"])
    assert fast.clocks["core"].freq_hz == 450e6
    assert fast.peak_macs_per_s("mpe", "int8") == pytest.approx(2 * base.peak_macs_per_s("mpe", "int8"))
    assert fast.fingerprint() != base.fingerprint()


def test_mechanism_switch_and_repeated_overrides():
    t = targets.load_target("neupims", ["mechanisms.dual_row_buffers=false",
                                        "mechanisms.sub_batch_interleaving=false"])
    assert not t.mechanisms.dual_row_buffers and not t.mechanisms.sub_batch_interleaving
    assert t.mechanisms.pim_attention


def test_override_errors():
    with pytest.raises(TargetError, match=r"unknown field 'freq_mhz' in clocks.core of target "
                                          r"flightllm-u280 \(fields: freq_hz, source\)"):
        targets.load_target("flightllm-u280", ["clocks.core.freq_mhz=300"])
    with pytest.raises(TargetError, match="clocks.core.freq_hz: Input should be greater than 0"):
        targets.load_target("flightllm-u280", ["clocks.core.freq_hz=-1"])
    with pytest.raises(TargetError, match="clocks.core is a group; set one of its fields"):
        targets.load_target("flightllm-u280", ["clocks.core=1"])
    with pytest.raises(TargetError, match="memories.hbm.timing is not a group of fields"):
        targets.load_target("a100", ["memories.hbm.timing.cl_cycles=3"])
