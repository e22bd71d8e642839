"""The released stub, unanswered: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"


def grad_limit(x):
    raise NotImplementedError(
        "TODO: return the uniform distribution over the maximisers"
    )
