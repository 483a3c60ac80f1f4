"""Shrunk counterexamples the invariant suite found, kept as regular tests (each failed before
its fix)."""
from __future__ import annotations

import pytest

from tests.invariants.strategies import Point


def _h100_decode(context):
    return Point("tiny-opt", None, "h100", (), (("batch", 4), ("context", context), ("gen", 8),
                                                 ("kv_bits", 16), ("phase", "decode"),
                                                 ("quant", "w8a8"), ("seq", 16)))


def test_h100_decode_not_faster_at_a_longer_context():
    # Found: context 237 took 1.829 us, context 1 took 1.877 us. Cause: the DRAM model read
    # the 64 B burst two unaligned KV rows (144 B apart) share twice, once per row; fixed in
    # hwsim/memory/kernel.py (a burst is read once per transfer). What is left is the channel
    # mapping of strided rows (test_monotone.MAPPING_SLACK), well under 3 %.
    t1, t237 = (_h100_decode(c).run()["seconds"] for c in (1, 237))
    assert t237 >= t1 * (1 - 0.03)
    assert t237 >= t1 * (1 - 0.02)  # before the fix: 2.5 % faster


def test_output_stationary_is_not_the_weight_stationary_formula():
    # Found: units.*.dataflow=output_stationary changed no result (the WS formula ran).
    point = Point("tiny-llama", None, "neupims", (), (("batch", 4), ("phase", "prefill"),
                                                      ("quant", "fp16"), ("seq", 64)))
    ws = point.run()["seconds"]
    os_ = point.run(("units.systolic.dataflow=output_stationary",))["seconds"]
    assert os_ != ws


def test_flightllm_simulate_and_roofline_agree_on_a_tiny_prefill():
    # Found: simulate's roofline 2.39 us exceeded `hwsim roofline`'s 1.62 us. The analytical
    # tier charged vector ops flops / (2 x lane rate) (as if each were a MAC) and left out each
    # matrix op's output conversion on the SFU. Fixed by finding 9's fix (branch fixes, merged:
    # `hwsim roofline` is the program bound simulate reports).
    from tests.invariants.test_bounds import AGREE
    point = Point("tiny-llama", None, "flightllm-u280", (),
                  (("batch", 1), ("context", 0), ("gen", 2), ("kv_bits", 16),
                   ("phase", "prefill"), ("quant", "auto"), ("seq", 8)))
    assert point.run()["roofline_seconds"] <= point.roofline()["roofline_s"] * (1 + AGREE)


def test_block_sparsity_is_refused_not_ignored():
    # Found: --sparsity block at 256 tokens gave exactly the dense result on every target.
    point = Point("tiny-llama", None, "flightllm-u280", (),
                  (("batch", 1), ("context", 256), ("phase", "prefill"), ("quant", "auto"),
                   ("seq", 256), ("sparsity", "block")))
    assert point.run().message.startswith("--sparsity block is not modelled")


TINY_OPT16 = {"ffn_dim": 64, "hidden_size": 16, "max_position_embeddings": 4096,
              "model_type": "opt", "num_attention_heads": 2, "num_hidden_layers": 1,
              "vocab_size": 128, "word_embed_proj_dim": 16}


def test_mobile_decode_batch_9_is_no_cliff():
    # Found by the slow profile: batch 8 takes 1.41 us (CPU GEMV), batch 9 4.67 us (HMX
    # systolic array, 2R + C cycles of fill per fold for a 9-row product), batch 16 5.28 us,
    # more than two batches of 8 (2.82 us). Fixed with finding 1 (branch neupims, merged):
    # partition places a matrix product on the unit its cost estimate says is faster.
    from tests.invariants import runner
    point = Point(runner.model_path(TINY_OPT16), None, "mllm-npu-sd8gen3", (),
                  (("batch", 8), ("context", 16), ("gen", 2), ("kv_bits", 4),
                   ("phase", "decode"), ("quant", "w8a8"), ("seq", 32)))
    t8, t16 = point.run()["seconds"], point.run(batch=16)["seconds"]
    assert t16 <= 2 * t8 * 1.03


def test_more_pim_multipliers_never_slower():
    # Found by the slow profile (a random config: 1.09 vs 1.35 us); tiny-llama decode 3.14 us
    # with 16 multipliers per bank, 4.42 us with 32, 6.46 with 64, 11.04 with 128: a GWRITE
    # load of 32 x multipliers elements was counted as ceil(load bytes / row) DRAM rows opened
    # per output even where the packed heads fill one row. Fixed in hwsim/unit_models.py
    # (_rows_holding_data: only rows holding data open). (This point ran with kv_bits 4 and was
    # refused before the check, which the non-strict xfail hid; now fp16 KV, as PIM needs.)
    point = Point("tiny-llama", None, "neupims", (),
                  (("batch", 4), ("context", 16), ("gen", 2), ("kv_bits", 16),
                   ("phase", "decode"), ("quant", "auto"), ("seq", 8)))
    times = [point.run((f"units.pim.multipliers_per_bank={m}",))["seconds"]
             for m in (8, 16, 32, 64)]
    assert all(more <= fewer for fewer, more in zip(times, times[1:])), times


TINY_LLAMA32 = {"hidden_size": 32, "intermediate_size": 32, "max_position_embeddings": 4096,
                "model_type": "llama", "num_attention_heads": 4, "num_hidden_layers": 1,
                "num_key_value_heads": 4, "vocab_size": 128}


def test_flightllm_prefill_batch_6_is_no_cliff():
    # Found by the slow profile: prefill of 100 tokens, batch 6 took 193.9 us, more than
    # batches 1 (32.0 us) and 5 (154.2 us) plus the allowed slack and extra traffic (192.1 us).
    # At batch 6 the attention scores spill: each score tile's accumulator and its STORE's
    # staging took both output slots, so no tile's MATMUL overlapped the previous REQUANT.
    # Fixed in compiler/codegen/context.py (a spilled tile is converted in place in its
    # accumulator slot and stored from it): batch 6 takes 187.9 us.
    from tests.invariants import runner
    from tests.invariants.test_monotone import check_axis
    point = Point(runner.model_path(TINY_LLAMA32), None, "flightllm-u280", (),
                  (("batch", 1), ("context", 0), ("gen", 2), ("kv_bits", 16),
                   ("phase", "prefill"), ("quant", "auto"), ("seq", 100)))
    check_axis("batch", point, 1, 5)


def test_neupims_more_channels_meet_closed_banks_within_the_mapping_slack():
    # Found by the slow profile: tiny-llama prefill of 16 tokens, memories.hbm.channels=16 with
    # 512 GB/s took 1.805 us, 8 channels with 256 GB/s 1.789 us. Not a bug: the address map
    # spreads the same bytes over twice the banks, and the KV cache's four 512 B stores (in
    # series on the ST queue) find their DRAM rows closed (tRCD = 14 ns each) where with 8
    # channels q_proj's weight load had opened them. test_resources names the exception
    # (DRAM address mapping, MAPPING_SLACK, only where more rows are activated).
    from tests.invariants.test_monotone import MAPPING_SLACK
    from tests.invariants.test_resources import check_resource
    point = Point("tiny-llama", None, "neupims", (),
                  (("batch", 1), ("context", 0), ("gen", 2), ("kv_bits", 16),
                   ("phase", "prefill"), ("quant", "auto"), ("seq", 16)))
    small = ("memories.hbm.channels=8", "memories.hbm.bandwidth_bytes_per_s=256e9")
    large = ("memories.hbm.channels=16", "memories.hbm.bandwidth_bytes_per_s=512e9")
    slow, fast = point.run(small), point.run(large)
    tck_s = 1e-9  # neupims: tRCD 14 cycles of 1 ns; four stores on the critical path
    assert fast["dram"]["activations"] > slow["dram"]["activations"]  # the mechanism
    assert 0 < fast["seconds"] - slow["seconds"] <= 4 * 14 * tck_s
    assert fast["seconds"] <= slow["seconds"] * (1 + MAPPING_SLACK)
    check_resource(point, "memories.hbm.channels", small, large)


def test_an_implausible_larger_amount_is_not_a_resource_refusal():
    # Found by the slow profile after the two fixes above: h100's HBM clock x4 is 10.5 GHz,
    # outside the schema's plausible range (finding 13, at most 1e10 Hz), so the larger amount
    # is refused by design while x0.25 runs; the resource property skips such pairs.
    from tests.invariants.test_resources import check_resource
    point = Point("tiny-llama", None, "h100", (),
                  (("batch", 1), ("context", 0), ("gen", 2), ("kv_bits", 16),
                   ("phase", "prefill"), ("quant", "auto"), ("seq", 8)))
    large = ("clocks.hbm.freq_hz=10476000000.0",)
    assert point.run(large).message.endswith("outside the plausible range [1e+06, 1e+10] Hz")
    check_resource(point, "clocks.hbm.freq_hz", ("clocks.hbm.freq_hz=654750000.0",), large)


A100_DECODE_MODEL = {"hidden_size": 128, "intermediate_size": 32, "max_position_embeddings": 4096,
                     "model_type": "llama", "num_attention_heads": 8, "num_hidden_layers": 1,
                     "num_key_value_heads": 8, "vocab_size": 128}


@pytest.mark.xfail(strict=False, raises=AssertionError,  # a refusal is an error, not this
                   reason="OPEN: DRAM address mapping beyond MAPPING_SLACK on a tiny a100 decode "
                          "(KV-write rows packed in one channel)")
def test_a100_decode_not_faster_at_context_3_than_1():
    # Found by the slow profile on the merged main (16:15 UTC): batch 8 decode, context 3 takes
    # 1.686 us, context 1 1.750 us (3.6 %, over the 3 % slack). Each sequence's KV write is 8
    # head rows of 16 B a cache region (max_len x 16 B) apart: 32 B apart at context 1, all in
    # one 256 B channel chunk and served one after another; 64 B apart at context 3, over two
    # channels. kv_write 0.575 vs 0.511 us. The named mechanism, past its bound.
    from tests.invariants import runner
    from tests.invariants.test_monotone import MAPPING_SLACK
    point = Point(runner.model_path(A100_DECODE_MODEL), None, "a100", (),
                  (("batch", 8), ("context", 0), ("gen", 2), ("kv_bits", 8),
                   ("phase", "decode"), ("quant", "auto"), ("seq", 8)))
    t1, t3 = point.run(context=1)["seconds"], point.run(context=3)["seconds"]
    assert t3 >= t1 * (1 - MAPPING_SLACK)
