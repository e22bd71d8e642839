"""The released stub, unanswered: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"


def smooth_min(x, beta):
    raise NotImplementedError(
        "TODO: return a smooth minimum of x along the last dimension"
    )
