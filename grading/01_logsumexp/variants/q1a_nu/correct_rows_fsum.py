"""Correct: one row at a time in plain Python, the shifted sum taken with
math.fsum (exactly rounded); slower, but the same values: full points."""

POINTS = 2
SELF_CHECK = "passes"

import math

import torch


def log_sum_exp_row(row, beta):
    top = max(beta * v for v in row)
    return (top + math.log(math.fsum(math.exp(beta * v - top) for v in row))) / beta


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError("nu of an empty last dimension is undefined")
    if not (math.isfinite(beta) and beta != 0):
        raise ValueError("beta must be finite and nonzero")
    rows = x.reshape(-1, x.shape[-1]).tolist()
    values = [log_sum_exp_row(row, float(beta)) for row in rows]
    return torch.tensor(values, dtype=torch.float64).reshape(x.shape[:-1])
