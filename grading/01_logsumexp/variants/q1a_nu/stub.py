"""The released stub, unanswered: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"


def nu(x, beta=1.0):
    raise NotImplementedError("TODO: return (1/beta) log sum_i exp(beta x_i)")
