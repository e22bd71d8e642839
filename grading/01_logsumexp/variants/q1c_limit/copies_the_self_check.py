"""Wrong: the self-check's own reference, the gradient at beta = 1e9 (by softmax), pasted
as the answer. The statement asks for the limit exactly; the self-check's near-ties are
1e-6 apart, which beta = 1e9 separates, but the hidden near-ties (1e-12) it does not."""

POINTS = 1.5
SELF_CHECK = "passes"
MESSAGE = "any finite beta leaves some on near-ties"

import torch


def grad_limit(x):
    return torch.softmax(1e9 * torch.as_tensor(x, dtype=torch.float64), dim=-1)
