"""The import-time table check: full, non-overlapping coverage of the word."""
import pytest

from isa import FORMATS, IsaError, WORD_BITS
from isa.fields import BitField, Format, check_coverage


def test_every_shipped_format_covers_the_word_exactly():
    for fmt in FORMATS:
        bits = sorted(b for f in fmt.fields for b in range(f.lo, f.lo + f.width))
        assert bits == list(range(WORD_BITS)), fmt.name


def test_overlapping_table_fails_at_definition():
    fields = (BitField("a", 0, 8), BitField("b", 7, 9))
    with pytest.raises(IsaError, match=r"^format bad: fields a and b overlap at bit 7$"):
        Format("bad", fields, word_bits=16)


def test_gapped_table_fails_at_definition():
    fields = (BitField("a", 0, 4), BitField("b", 6, 8), BitField("c", 14, 2))
    with pytest.raises(IsaError, match=r"^format bad: bits 4-5 are covered by no field$"):
        Format("bad", fields[:2] + (BitField("c", 14, 2),), word_bits=16)


def test_field_past_the_word_and_duplicate_names_fail():
    with pytest.raises(IsaError, match=r"bits \[16:9\] fall outside the 16-bit word"):
        check_coverage("bad", (BitField("a", 0, 9), BitField("b", 9, 8)), 16)
    with pytest.raises(IsaError, match="field name a appears twice"):
        check_coverage("bad", (BitField("a", 0, 8), BitField("a", 8, 8)), 16)


def test_several_gaps_are_listed():
    with pytest.raises(IsaError, match=r"bits 2,5-7 are covered by no field"):
        check_coverage("bad", (BitField("a", 0, 2), BitField("b", 3, 2)), 8)
