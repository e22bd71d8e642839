"""Correct: the shifted sum without its largest term, through log1p (the more
accurate variant of Blanchard, Higham and Higham); full points."""

POINTS = 2
SELF_CHECK = "passes"

import math

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x)
    if not x.is_floating_point():
        x = x.to(torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"nu needs a nonempty last dimension, got {tuple(x.shape)}")
    if beta == 0 or not math.isfinite(beta):
        raise ValueError(f"beta must be finite and nonzero, got {beta}")
    scaled = beta * x
    top, where = scaled.max(dim=-1, keepdim=True)
    rest = torch.exp(scaled - top).scatter(-1, where, 0.0)  # the top term is exactly 1
    return (top.squeeze(-1) + torch.log1p(rest.sum(dim=-1))) / beta
