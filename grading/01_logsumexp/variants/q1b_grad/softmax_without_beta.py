"""Wrong: softmax(x), the gradient of nu_1 only; the self-check tries
beta = 1 and lets it through, the hidden tests try other betas."""

POINTS = 0
SELF_CHECK = "passes"
MESSAGE = "differs from autograd"

import torch


def grad_nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    weights = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return weights / weights.sum(dim=-1, keepdim=True)
