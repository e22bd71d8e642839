"""The released stub, unanswered: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"


def grad_nu(x, beta=1.0):
    raise NotImplementedError("TODO: return softmax(beta x) over the last dimension")
