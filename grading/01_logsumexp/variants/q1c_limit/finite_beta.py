"""Wrong: softmax(1e4 x), a large but finite beta instead of the limit: mass
stays on near-ties, which the self-check catches."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "for x = [1.0, 1.000001, 0.0] you returned"

import torch


def grad_limit(x):
    return torch.softmax(1e4 * torch.as_tensor(x, dtype=torch.float64), dim=-1)
