"""Wrong: a one-hot of argmax, blind to ties (the first maximiser takes all
the mass); the self-check names the tied input."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "for x = [3.0, 1.0, 3.0] you returned [1.0, 0.0, 0.0]"

import torch


def grad_limit(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.nn.functional.one_hot(x.argmax(dim=-1), x.shape[-1]).to(torch.float64)
