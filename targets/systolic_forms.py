"""Cycle counts of a systolic array's folds: SCALE-Sim's weight- and output-stationary closed
forms. The timing model (hwsim.unit_models, hwsim.service) charges instructions by them and
the compiler's placement (compiler.passes.partition, through Target.matrix_seconds) estimates a
product by them, so both see the same fill and drain. Arguments may be numpy arrays.
"""
from __future__ import annotations

import numpy as np


def ceil_div(a, b):
    return -(-np.asarray(a) // np.asarray(b))


def systolic_cycles(m, n, k, groups, rows: int, cols: int, arrays: int,
                    preload_overlap: bool = False):
    """Weight-stationary rows x cols arrays (SCALE-Sim's WS fold): each fold preloads a
    k-block of weights (rows cycles), then streams m activation rows skewed through the array:
    2*rows + cols + m - 2 cycles per fold; folds = ceil(k/rows) * ceil(n/cols) * groups,
    spread over `arrays` arrays. With `preload_overlap` (double-buffered weights, as ONNXim's
    WS core pipelines GEMM_PRELOAD behind the previous stream) an array's F folds cost the
    first preload, F streams of max(m, rows) cycles (a preload still takes rows) and one
    fill / drain: rows + m + (F - 1) * max(m, rows) + rows + cols - 2; one fold is unchanged."""
    folds = ceil_div(k, rows) * ceil_div(n, cols) * groups
    per_array = ceil_div(folds, arrays)
    if preload_overlap:
        m = np.asarray(m)
        return np.where(per_array > 0, 2 * rows + cols + m - 2 +
                        (per_array - 1) * np.maximum(m, rows), 0)
    return per_array * (2 * rows + cols + m - 2)


def systolic_os_cycles(m, n, k, groups, rows: int, cols: int, arrays: int):
    """Output-stationary rows x cols arrays (SCALE-Sim's OS dataflow, Samajdar et al., ISPASS
    2020: a fold costs 2 S_R + S_C + T - 2 cycles with S_R x S_C the outputs the array holds
    and T the reduction length). Each PE keeps one output: a fold covers a rows x cols block
    of the m x n output, streams the k-long operands in skewed (rows + cols - 2 cycles of fill,
    k of stream) and shifts the block out (rows): 2*rows + cols + k - 2 cycles; folds =
    ceil(m/rows) * ceil(n/cols) * groups over `arrays` arrays. No weight preload, so
    `weight_preload_overlap` does not apply."""
    folds = ceil_div(m, rows) * ceil_div(n, cols) * groups
    return ceil_div(folds, arrays) * (2 * rows + cols + np.asarray(k) - 2)
