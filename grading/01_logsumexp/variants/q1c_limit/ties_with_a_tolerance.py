"""Wrong: entries within 1e-9 of the maximum count as maximisers; the self-check's
near-ties (1e-6 apart) let it through, the hidden 1e-12 near-ties do not."""

POINTS = 1.5
SELF_CHECK = "passes"
MESSAGE = "only exact maximisers share the mass"

import torch


def grad_limit(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    is_max = (x >= x.amax(dim=-1, keepdim=True) - 1e-9).to(torch.float64)
    return is_max / is_max.sum(dim=-1, keepdim=True)
