"""pim_channel_cycles / pim_commands: the channel-level PIM commands (per-head GWRITEs, the
global-buffer-aligned row layout, tFAW-spaced grouped activations, result readouts) against the
artifact's command sequence worked out by hand (casys-kaist/NeuPIMs NeuPIMSLogitSoftmax.cc,
NeuPIMSAttend.cc; NewtonSim timing.cc / channel_state.cc; HBM2_8Gb_x128_dualpim.ini)."""
from types import SimpleNamespace

from hwsim.unit_models import pim_channel_cycles, pim_commands, pim_cycles

# NewtonSim HBM2_8Gb_x128_dualpim.ini: tRCD 14, tRP 14, tCCD_S 1, tCCD_L 2, tFAW 30
T = SimpleNamespace(tccd_s_cycles=1, tccd_l_cycles=2, trcd_cycles=14, trp_cycles=14,
                    tfaw_cycles=30)
# one NeuPIMs channel: 32 banks (2 ranks x 4 bank groups x 4 banks), 16 multipliers, 1 KiB rows
CH = dict(banks=32, multipliers=16, row_bytes=1024, element_bytes=2)


def test_logit_commands_match_the_artifact():
    """K^T q of one request, 309 keys, 8 heads of 128 (GPT3-7B TP-4): the artifact GWRITEs
    E = 1,024 query elements in 1,024 / 512 = 2 chunks; per chunk ceil(309 / 32) = 10 tiles (a
    row per bank holding one token's keys of 4 heads), 4 readouts (one per head) per tile."""
    c = pim_commands(309, 128, 8, **CH)
    assert (int(c["gwrites"]), int(c["rows"]), int(c["readouts"])) == (2, 20, 80)


def test_attend_commands_match_the_artifact():
    """p V, 309 tokens, dk 128, 8 heads: per head ceil(309 / 512) = 1 chunk (GWRITE), dk / 32 =
    4 tiles (a row per bank holds one dk column's tokens), one readout per tile: 8 GWRITEs,
    8 x 4 = 32 rows and 32 readouts."""
    c = pim_commands(128, 309, 8, **CH)
    assert (int(c["gwrites"]), int(c["rows"]), int(c["readouts"])) == (8, 32, 32)


def test_channel_cycles_by_hand():
    """Logit: dense rows = ceil(ceil(309 x 128 x 8 / 32) x 2 / 1024) = ceil(9,888 x 2 / 1,024)
    = 20 = aligned rows, so no extra rows; 1 extra GWRITE x 96; activation: 32 banks / (4 x 2
    ranks) = 4 G_ACTs per rank, 3 x tFAW = 90 per row x 20 rows = 1,800; readouts 80 x 2 = 160:
    96 + 1,800 + 160 = 2,056. Attend: 7 extra GWRITEs x 96 = 672, 32 - 20 = 12 extra rows x 28
    = 336, 32 rows x 90 = 2,880, 32 readouts x 2 = 64: 3,952."""
    args = dict(banks_per_channel=32, ranks=2, **CH)
    assert int(pim_channel_cycles(1, 309, 128, 8, T, **args)) == 2056
    assert int(pim_channel_cycles(1, 128, 309, 8, T, **args)) == 3952
    assert int(pim_channel_cycles(3, 128, 309, 8, T, **args)) == 3 * 3952  # m vectors in a row


def test_request_total_near_the_artifact_estimator():
    """Bank part (pim_cycles) per GEMV: GWRITE 96 + 20 rows x 28 + ceil(9,888 / 16) = 618 dots x
    2 = 1,892, both GEMVs. Request total 2 x 1,892 + 2,056 + 3,952 = 9,792 cycles; the artifact's
    Scheduler::estimate_mha_latency at 308 tokens: (2 + 8) x 100 + (2 x 10 + 8 x 4) x 184 =
    10,568 (within 10 %; the bank part alone, 3,784, is 0.36 of it)."""
    bank = int(pim_cycles(1, 309, 128, 8, T, 32, 16, 1024, 2))
    assert bank == 96 + 20 * 28 + 618 * 2 == int(pim_cycles(1, 128, 309, 8, T, 32, 16, 1024, 2))
    args = dict(banks_per_channel=32, ranks=2, **CH)
    total = 2 * bank + int(pim_channel_cycles(1, 309, 128, 8, T, **args)) + int(
        pim_channel_cycles(1, 128, 309, 8, T, **args))
    assert total == 9792
    assert abs(total / 10568 - 1) < 0.1


def test_one_group_short_vector_adds_only_activation_and_readout():
    """groups = 1, k = 128 <= 512: one GWRITE (as pim_cycles), n = 64 outputs over 32 banks = 2
    per bank, each in its own row (2 rows; dense: ceil(2 x 128 x 2 / 1024) = 1, so 1 extra row
    x 28), activation 2 x 90 (one rank: 32 / 4 = 8 G_ACTs, 7 x 30 = 210 per row when ranks = 1),
    2 readouts x 2."""
    assert int(pim_channel_cycles(1, 64, 128, 1, T, banks_per_channel=32, ranks=2,
                                  **CH)) == 28 + 2 * 90 + 4
    assert int(pim_channel_cycles(1, 64, 128, 1, T, banks_per_channel=32, ranks=1,
                                  **CH)) == 28 + 2 * 210 + 4
