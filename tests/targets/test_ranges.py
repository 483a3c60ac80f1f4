"""Issue 18 finding 13 and issue 16 cause 2: every number of a target lies in a physical
plausibility range stated in the schema (targets/ranges.py) and in docs/targets.md; a value
outside it, infinite or NaN is one TargetError naming the field, the value and the range."""
import math
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from targets import TargetError, load_target, preset_names
from targets.ranges import FIELD_RANGES, SUFFIX_RANGES, range_of
from targets.target import AnyTarget

DOCS = Path(__file__).resolve().parents[2] / "docs" / "targets.md"


@pytest.mark.parametrize("override, message", [
    ("clocks.sm.freq_hz=1e30", "clocks.sm: freq_hz = 1e+30 is outside the plausible range "
                               "[1e+06, 1e+10] Hz"),
    ("memories.hbm.bandwidth_bytes_per_s=1e30", "memories.hbm: bandwidth_bytes_per_s = 1e+30 is "
                                                "outside the plausible range [1, 1e+14] B/s"),
    ("memories.hbm.bandwidth_bytes_per_s=inf", "memories.hbm: bandwidth_bytes_per_s = inf is "
                                               "outside the plausible range [1, 1e+14] B/s"),
    ("memories.hbm.channels=50000000", "memories.hbm: channels = 50000000 is outside the "
                                       "plausible range [1, 4096] channels"),
    ("energy.static.power_w=inf", "energy.static: power_w = inf is outside the plausible range "
                                  "[0, 100000] W"),
    ("units.sm.peak_flops_per_s.fp16=1e30", "units.sm: peak_flops_per_s.fp16 = 1e+30 is "
                                                "outside the plausible range [1e+06, 1e+17] "
                                                "FLOP/s"),
    ("buffers.l2.size_bytes=" + "9" * 5000, None),
])
def test_an_implausible_number_is_refused_naming_field_value_and_range(override, message):
    with pytest.raises(TargetError) as err:
        load_target("a100", [override])
    text = str(err.value)
    assert "\n" not in text
    if message is not None:
        assert text == f"a100 with --set: {message}"


def test_nan_is_refused():
    with pytest.raises(TargetError, match=r"got nan"):
        load_target("a100", ["memories.hbm.bandwidth_bytes_per_s=nan"])


def test_dram_bank_count_is_bounded():
    with pytest.raises(TargetError) as err:
        load_target("neupims", ["memories.hbm.channels=4096", "memories.hbm.ranks_per_channel=1",
                                "memories.hbm.banks_per_channel=1024"])
    assert str(err.value).endswith("channels x ranks_per_channel x banks_per_channel = 4194304 "
                                   "exceeds the limit of 1048576 banks")


def _numeric_fields():
    """(model class, field name) for every int / float field anywhere in the target schema."""
    seen, out, todo = set(), [], [AnyTarget]
    while todo:
        node = todo.pop()
        if isinstance(node, type) and issubclass(node, BaseModel):
            if node in seen:
                continue
            seen.add(node)
            for name, info in node.model_fields.items():
                if _is_numeric(info.annotation):
                    out.append((node.__name__, name))
                todo.append(info.annotation)
        else:
            todo.extend(typing.get_args(node))
    return out


def _is_numeric(annotation) -> bool:
    if annotation in (int, float):
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is dict:
        return _is_numeric(args[1])
    return any(_is_numeric(a) for a in args if a is not type(None))


def test_every_numeric_field_of_the_schema_has_a_range():
    fields = _numeric_fields()
    assert len(fields) > 60
    missing = [f"{cls}.{name}" for cls, name in fields if range_of(name) is None]
    assert missing == []


def test_every_preset_number_lies_inside_its_range():
    for name in preset_names():  # load_target would raise otherwise; and the ranges are not
        load_target(name)        # tight: a 10x step either way from a preset's clock still loads
    load_target("a100", ["clocks.sm.freq_hz=141e6", "clocks.sm.freq_hz=9e9"])


def test_docs_state_every_range():
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Plausibility ranges"):]
    for key, (low, high, unit) in {**FIELD_RANGES, **SUFFIX_RANGES}.items():
        row = re.search(rf"^\| `{re.escape(key)}` \| ([^|]+) \| ([^|]+) \| ([^|]*) \|$", section,
                        re.M)
        assert row, key
        assert math.isclose(_number(row[1]), low) and math.isclose(_number(row[2]), high), key
        assert row[3].strip() == unit, key


def _number(text: str) -> float:
    text = text.strip().replace(",", "")
    if text.startswith("2^"):
        return 2.0 ** int(text[2:])
    return float(text)
