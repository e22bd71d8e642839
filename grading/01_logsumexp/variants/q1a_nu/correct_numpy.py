"""Correct: the same shift computed in NumPy (float64) and handed back as a
tensor; nothing of PyTorch's log-sum-exp is used, so full points."""

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
    scaled = beta * values
    top = scaled.max(axis=-1)
    total = np.exp(scaled - top[..., None]).sum(axis=-1)
    return torch.from_numpy(np.asarray((top + np.log(total)) / beta))
