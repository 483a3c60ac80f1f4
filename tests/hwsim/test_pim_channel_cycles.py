"""pim_channel_cycles / pim_commands: the channel-level PIM timeline (per-head GWRITEs, the
global-buffer-aligned row layout, tFAW-spaced grouped activations, readouts with their floor,
tRTP and one precharge per bank before the next row) against the artifact's command sequence
worked out by hand (casys-kaist/NeuPIMs NeuPIMSLogitSoftmax.cc, NeuPIMSAttend.cc; NewtonSim
timing.cc, channel_state.cc, newton_command_queue.cc; HBM2_8Gb_x128_dualpim.ini).

Hand timeline of one row (tile) on a channel of 2 ranks x 4 bank groups x 4 banks, one command
per cycle: G_ACTs of rank 0 at 0, 30, 60, 90 and of rank 1 one slot behind each (last at 91),
the first readout tRCD = 14 later (105); after the row's last readout command X the banks close
from X + tRTP (5): 32 precharges at one per cycle, then the next PIM_HEADER, and the next row's
first G_ACT: X + 5 + 33. So a row costs 91 + 14 + 5 + 33 = 143 cycles plus its readouts."""
from types import SimpleNamespace

from hwsim.unit_models import pim_channel_cycles, pim_commands, pim_cycles

# NewtonSim HBM2_8Gb_x128_dualpim.ini: tRCD 14, tRP 14, tCCD_S 1, tCCD_L 2, tFAW 30; tRTP 5
# (configuration.cc default: the ini's tRTP_L / tRTP_S are not read)
T = SimpleNamespace(tccd_s_cycles=1, tccd_l_cycles=2, trcd_cycles=14, trp_cycles=14,
                    tfaw_cycles=30, trtp_cycles=5)
# one NeuPIMs channel: 32 banks (2 ranks x 4 bank groups x 4 banks), 16 multipliers, 1 KiB rows
CH = dict(banks=32, multipliers=16, row_bytes=1024, element_bytes=2)
ROW = 91 + 14 + 5 + 33          # per row, readouts aside (module docstring)
GW_DUAL = 96 + 2 - 5            # GWRITE one tCCD_L after the last readout instead of tRTP
GW_SINGLE = 96 + 14 + 14        # Newton: the GWRITE bank closes the PIM row, opens its own
NEUPIMS = dict(gemv_command=True, min_dot_cycles=12, single_row_buffer=False)
NEWTON = dict(gemv_command=False, min_dot_cycles=6, single_row_buffer=True)


def _total(n, k, groups, m=1, ranks=2, **mode):
    return int(pim_cycles(m, n, k, groups, T, 32, 16, 1024, 2) + pim_channel_cycles(
        m, n, k, groups, T, banks_per_channel=32, ranks=ranks, **CH, **mode))


def test_logit_commands_match_the_artifact():
    """K^T q of one request, 309 keys, 8 heads of 128 (GPT3-7B TP-4): the artifact GWRITEs
    E = 1,024 query elements in 1,024 / 512 = 2 chunks; per chunk ceil(309 / 32) = 10 tiles (a
    row per bank holding one token's keys of 4 heads), 4 readouts (one per head) per tile, each
    of 128 / 16 = 8 dot products."""
    c = pim_commands(309, 128, 8, **CH)
    assert (int(c["gwrites"]), int(c["rows"]), int(c["readouts"])) == (2, 20, 80)
    assert (int(c["rows_rest"]), int(c["readouts_rest"]), int(c["dots_rest"])) == (20, 80, 8)
    assert (int(c["rows_full"]), int(c["readouts_full"])) == (0, 0)


def test_attend_commands_match_the_artifact():
    """p V, 309 tokens, dk 128, 8 heads: per head ceil(309 / 512) = 1 chunk (GWRITE), dk / 32 =
    4 tiles (a row per bank holds one dk column's tokens), one readout per tile of
    ceil(309 / 16) = 20 dot products: 8 GWRITEs, 8 x 4 = 32 rows and 32 readouts."""
    c = pim_commands(128, 309, 8, **CH)
    assert (int(c["gwrites"]), int(c["rows"]), int(c["readouts"])) == (8, 32, 32)
    assert (int(c["rows_rest"]), int(c["readouts_rest"]), int(c["dots_rest"])) == (32, 32, 20)


def test_long_attend_splits_full_and_last_chunk():
    """p V at 600 tokens: a full 512-token chunk (32 dot products per readout) and an 88-token
    one (ceil(88 / 16) = 6): 8 heads x 2 chunks = 16 GWRITEs, 32 rows and readouts each."""
    c = pim_commands(128, 600, 8, **CH)
    assert int(c["gwrites"]) == 16
    assert (int(c["rows_full"]), int(c["readouts_full"]), int(c["dots_full"])) == (32, 32, 32)
    assert (int(c["rows_rest"]), int(c["readouts_rest"]), int(c["dots_rest"])) == (32, 32, 6)


def test_neupims_request_by_hand():
    """NeuPIMs (PIM_GEMV, dual row buffers), 309 keys. K^T q: 2 GWRITEs x 93 + 20 rows x 143
    + per row the 3 readouts before the last, each 8 x 2 + 2 = 18 (the last one's time runs
    under the row close: the precharges wait tRTP after it issues): 60 x 18 = 1,080 -> 4,126.
    p V: 8 x 93 + 32 x 143 + 0 (one readout per row, hidden) = 5,320. Request 9,446 cycles;
    the artifact's Scheduler::estimate_mha_latency at 308 tokens: (2 + 8) x 100 + (2 x 10 +
    8 x 4) x 184 = 10,568."""
    assert _total(309, 128, 8, **NEUPIMS) == 2 * GW_DUAL + 20 * ROW + 60 * 18 == 4126
    assert _total(128, 309, 8, **NEUPIMS) == 8 * GW_DUAL + 32 * ROW == 5320
    assert _total(128, 309, 8, m=3, **NEUPIMS) == 3 * 5320  # m vectors back to back
    assert abs((4126 + 5320) / 10568 - 1) < 0.11


def test_newton_request_by_hand():
    """Newton (PIM_DOTPRODUCT x k + PIM_RDRESULT, single row buffer), 309 keys. K^T q: 2 x 124
    + 20 x 143 + 80 readouts x 8 dot products x 2 + 60 readout slots x 2 (the last readout of a
    row is followed by tRTP, its slot hidden) = 248 + 2,860 + 1,280 + 120 = 4,508. p V: 8 x 124
    + 32 x 143 + 32 x 20 x 2 = 992 + 4,576 + 1,280 = 6,848. Request 11,356: 1.20x NeuPIMs."""
    assert _total(309, 128, 8, **NEWTON) == 2 * GW_SINGLE + 20 * ROW + 80 * 16 + 60 * 2 == 4508
    assert _total(128, 309, 8, **NEWTON) == 8 * GW_SINGLE + 32 * ROW + 32 * 40 == 6848


def test_readout_floor_by_hand():
    """The floor binds when a readout has few dot products. NeuPIMs, 32 keys of 16 heads of 64
    (8 heads per 512-element GWRITE: 2 GWRITEs, 2 rows of 8 readouts, 4 dot products each):
    7 non-last readouts per row at max(4 x 2, 12) + 2 = 14, not 10: 2 x 93 + 2 x 143 + 14 x 14
    = 668 (with no floor 612). Newton, 32 keys of 16 heads of 32 (one GWRITE, one row, 16
    readouts of 2 dot products): each readout max(2 x 2, 6) = 6, 15 slots of 2: 124 + 143 +
    96 + 30 = 393 (with no floor 361)."""
    assert _total(32, 64, 16, **NEUPIMS) == 668
    assert _total(32, 64, 16, **{**NEUPIMS, "min_dot_cycles": 0}) == 612
    assert _total(32, 32, 16, **NEWTON) == 393
    assert _total(32, 32, 16, **{**NEWTON, "min_dot_cycles": 0}) == 361


def test_trtp_and_bank_precharges_by_hand():
    """Without tRTP (0) each row is 5 cycles shorter and each dual GWRITE 5 longer (it replaces
    a tRTP the row no longer has): p V at 309, NeuPIMs: 5,320 - 32 x 5 + 8 x 5 = 5,200. One
    rank of 8 bank groups: 7 x 30 + 0 + 14 + 5 + 33 = 262 per row (p V: 8 x 93 + 32 x 262)."""
    no_trtp = SimpleNamespace(**{**vars(T), "trtp_cycles": 0})
    got = int(pim_cycles(1, 128, 309, 8, no_trtp, 32, 16, 1024, 2) + pim_channel_cycles(
        1, 128, 309, 8, no_trtp, banks_per_channel=32, ranks=2, **CH, **NEUPIMS))
    assert got == 5200
    assert _total(128, 309, 8, ranks=1, **NEUPIMS) == 8 * GW_DUAL + 32 * 262



def test_a_wider_global_buffer_opens_only_the_rows_holding_data():
    """32 multipliers: a GWRITE load of 32 x 32 = 1,024 fp16 elements, two 1 KiB rows.
    K^T q, 309 keys, 8 heads of 128: all 8 heads pack into one load and fill it (2 rows per
    output): 1 GWRITE, ceil(309 / 32) = 10 outputs per bank x 2 rows = 20 rows, as with 16
    multipliers. 4 heads of 16 (tiny): 64 elements, 128 B, one row per output, not two.
    p V at 600 tokens: one load per head, 600 x 2 B = 1,200 B: 2 rows per (dk column) output,
    4 outputs per bank x 8 heads = 64 rows, 8 GWRITEs; each readout ceil(600 / 32) = 19 dot
    products."""
    wide = dict(CH, multipliers=32)
    c = pim_commands(309, 128, 8, **wide)
    assert (int(c["gwrites"]), int(c["rows"]), int(c["readouts"])) == (1, 20, 80)
    c = pim_commands(309, 16, 4, **wide)
    assert (int(c["gwrites"]), int(c["rows"]), int(c["readouts"])) == (1, 10, 40)
    c = pim_commands(128, 600, 8, **wide)
    assert (int(c["gwrites"]), int(c["rows"]), int(c["dots_rest"])) == (8, 64, 19)
    assert int(c["rows_full"]) == 0
