"""Another library's log-sum-exp, NumPy's logaddexp.reduce: the checks refuse only
PyTorch's, as the statement says, so it gets full points (the statement does not claim
to catch it)."""

POINTS = 2
SELF_CHECK = "passes"

import math

import numpy as np
import torch


def nu(x, beta=1.0):
    values = np.asarray(torch.as_tensor(x), dtype=np.float64)
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError("nu needs at least one entry in the last dimension")
    if beta == 0 or not math.isfinite(beta):
        raise ValueError("beta must be a finite nonzero number")
    return torch.from_numpy(
        np.asarray(np.logaddexp.reduce(beta * values, axis=-1) / beta)
    )
