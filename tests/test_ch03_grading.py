"""Chapter 3's hidden tests (grading/03_batchnorm_folding/tests): the solution passes them, the untouched
stubs fail them, and for every autograded question plausible wrong answers that pass the notebook's public
self-check fail them, with a message that names the mistake.

Nothing here executes the chapter: its setup and network cells run in-process, then a stand-in for the
trained net (random BN statistics) and for the test set, then the answer cells and the self-checks the
question needs."""

import copy
import re
import sys

import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT, replace_solution

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "03_batchnorm_folding"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
# question: the function it asks for; the functions are defined in this order in the chapter
AUTOGRADED = {
    "q3a_fold_bn": "fold_bn",
    "q3b_fold_net": "fold_net",
    "q3_ex_first_mismatch": "first_mismatch",
    "q3_ex_bn_before": "fold_bn_into_next",
}
ORDER = list(AUTOGRADED.values())
# function: what starts (or is in) the cells of its public self-check, in order
CHECK_CELLS = {
    "fold_bn": ["# Self-check (q3a_fold_bn)", "# Self-check (q3a_fold_bn)"],
    "fold_net": ["TARGET = 1e-8", "# Self-check (q3b_fold_net)"],
    "first_mismatch": ["# Self-check (q3_ex_first_mismatch)"],
    "fold_bn_into_next": ["# Self-check (q3_ex_bn_before)"],
}

# The trained net and the test set, stood in for: random BN statistics, random images; `bns` as the
# chapter's figure cell defines it.
STAND_IN = """
torch.manual_seed(1)
net = SmallNet()
with torch.no_grad():
    for name in ("conv1", "conv2", "fc1"):
        bn = getattr(net, name)[1]
        bn.running_mean.uniform_(-1, 1); bn.running_var.uniform_(0.2, 3)
        bn.weight.uniform_(0.5, 2); bn.bias.uniform_(-1, 1)
net.eval()
bns = {"conv1": net.conv1[1], "conv2": net.conv2[1], "fc1": net.fc1[1]}
EVAL_BATCH = 20
test_inputs = torch.randn(2 * EVAL_BATCH, 3, 32, 32)


def outputs_by_batch(model, inputs, batch_size=EVAL_BATCH):
    with torch.inference_mode():
        return torch.cat(
            [model(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)]
        )


net_outputs = outputs_by_batch(net, test_inputs)
"""

# --- Plausible wrong answers that pass the public self-check --------------------------------------
FOLD_CHECKS = """\
    if not isinstance(layer, (nn.Conv2d, nn.Linear)):
        raise TypeError(f"fold_bn folds into Conv2d or Linear, got {type(layer).__name__}")
    bn_type = nn.BatchNorm2d if isinstance(layer, nn.Conv2d) else nn.BatchNorm1d
    if type(bn) is not bn_type:
        raise TypeError(f"expected nn.{bn_type.__name__}, got {type(bn).__name__}")
    if bn.num_features != layer.weight.shape[0]:
        raise ValueError("the layer and the BN have different sizes")
    if bn.training:
        raise ValueError("the BN is in training mode: call .eval() first")
    if bn.running_mean is None:
        raise ValueError("the BN has no running statistics")
"""
FOLD_MATH = """\
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + EPS)
        if bn.affine:
            scale = bn.weight * scale
        shift = bn.bias if bn.affine else torch.zeros_like(scale)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(scale)
        folded = copy.deepcopy(layer)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        folded.weight = nn.Parameter(layer.weight * scale.reshape(shape))
        folded.bias = nn.Parameter(scale * (bias - bn.running_mean) + shift)
    return folded"""
# PyTorch's default eps, typed in instead of the BN's own bn.eps
FOLD_DEFAULT_EPS = FOLD_CHECKS + FOLD_MATH.replace("EPS", "1e-5")
# a new convolution built from some of the layer's settings: dilation and padding mode are lost
FOLD_REBUILT_CONV = (
    FOLD_CHECKS
    + """\
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)
        if bn.affine:
            scale = bn.weight * scale
        shift = bn.bias if bn.affine else torch.zeros_like(scale)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(scale)
        dtype = layer.weight.dtype
        if isinstance(layer, nn.Conv2d):
            folded = nn.Conv2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                groups=layer.groups,
                dtype=dtype,
            )
        else:
            folded = nn.Linear(layer.in_features, layer.out_features, dtype=dtype)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        folded.weight.copy_(layer.weight * scale.reshape(shape))
        folded.bias.copy_(scale * (bias - bn.running_mean) + shift)
    return folded"""
)
# checks the BN's kind only for the case the self-check shows (a Conv2d), so a Linear takes any BN
FOLD_ANY_BN_AFTER_LINEAR = """\
    if not isinstance(layer, (nn.Conv2d, nn.Linear)):
        raise TypeError(f"fold_bn folds into Conv2d or Linear, got {type(layer).__name__}")
    if isinstance(layer, nn.Conv2d) and not isinstance(bn, nn.BatchNorm2d):
        raise TypeError(f"a Conv2d needs a BatchNorm2d, got {type(bn).__name__}")
    if bn.num_features != layer.weight.shape[0]:
        raise ValueError("the layer and the BN have different sizes")
    if bn.training:
        raise ValueError("the BN is in training mode: call .eval() first")
    if bn.running_mean is None:
        raise ValueError("the BN has no running statistics")
""" + FOLD_MATH.replace("EPS", "bn.eps")

NET_CHECK = """\
    if not isinstance(net, SmallNet):
        raise TypeError(f"fold_net expects a SmallNet, got {type(net).__name__}")
"""
NET_BODY = """\
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc1"):
            layer, bn = getattr(net, name)[0], getattr(net, name)[1]
            getattr(test_net, name)[0].load_state_dict(fold_bn(layer, bn).state_dict())
        test_net.fc2[0].load_state_dict(net.fc2[0].state_dict())
    return test_net.eval()"""
# a SmallNetTest is float32 whatever the net's dtype
NET_ALWAYS_FLOAT32 = NET_CHECK + "    test_net = SmallNetTest()\n" + NET_BODY
# the BNs of the trained net (the chapter's `bns`), not those of the net it is given
NET_TRAINED_BNS = (
    NET_CHECK
    + """\
    test_net = SmallNetTest().to(net.fc2[0].weight.dtype)
    with torch.no_grad():
        for name, bn in bns.items():
            layer = getattr(net, name)[0]
            getattr(test_net, name)[0].load_state_dict(fold_bn(layer, bn).state_dict())
        test_net.fc2[0].load_state_dict(net.fc2[0].state_dict())
    return test_net.eval()"""
)
# switches the caller's net to eval mode instead of refusing it
NET_SWITCHES_TO_EVAL = (
    NET_CHECK
    + "    net.eval()\n    test_net = SmallNetTest().to(net.fc2[0].weight.dtype)\n"
    + NET_BODY
)

MISMATCH_MODE_CHECK = """\
    for model in (net, net_test):
        if model.training:
            raise ValueError("call .eval() first")
"""
MISMATCH_LOOP = """\
    with torch.no_grad():
        for name in STAGES:
            if name == "fc1":
                x = x.flatten(1)
            a, b = getattr(net, name)(x), getattr(net_test, name)(x)
            if (a - b).norm() > RTOL * a.norm():
                return name
            x = a
    return None"""
# no refusal of a net in training mode
MISMATCH_NO_MODE_CHECK = MISMATCH_LOOP.replace("RTOL", "rtol")
# the default tolerance typed in
MISMATCH_FIXED_RTOL = MISMATCH_MODE_CHECK + MISMATCH_LOOP.replace("RTOL", "1e-5")
# each net fed its own activation
MISMATCH_OWN_ACTIVATIONS = (
    MISMATCH_MODE_CHECK
    + """\
    a = b = x
    with torch.no_grad():
        for name in STAGES:
            if name == "fc1":
                a, b = a.flatten(1), b.flatten(1)
            a, b = getattr(net, name)(a), getattr(net_test, name)(b)
            if (a - b).norm() > rtol * a.norm():
                return name
    return None"""
)

NEXT_CHECKS = """\
    if not isinstance(bn, nn.BatchNorm1d) or not isinstance(linear, nn.Linear):
        raise TypeError("fold_bn_into_next expects (nn.BatchNorm1d, nn.Linear)")
    if bn.num_features != linear.in_features:
        raise ValueError("the BN and the Linear have different sizes")
    if bn.training or bn.running_mean is None:
        raise ValueError("the BN must be in eval mode with running statistics")
"""
NEXT_MATH = """\
    with torch.no_grad():
        s = torch.rsqrt(bn.running_var + EPS)
        if bn.affine:
            s = bn.weight * s
        t = (bn.bias if bn.affine else 0) - s * bn.running_mean
        bias = linear.bias if linear.bias is not None else 0
        folded = copy.deepcopy(linear)
        folded.weight = nn.Parameter(linear.weight * s)
        folded.bias = nn.Parameter(bias + linear.weight @ t)
    return folded"""
NEXT_DEFAULT_EPS = NEXT_CHECKS + NEXT_MATH.replace("EPS", "1e-5")
NEXT_NO_CHECKS = NEXT_MATH.replace("EPS", "bn.eps")

# (question, wrong body, a phrase the failing hidden test's message must contain, the failing tests)
WRONG_ANSWERS = [
    (
        "q3a_fold_bn",
        FOLD_DEFAULT_EPS,
        "use the BN's own bn.eps",
        {"test_unseen_layers_and_statistics"},
    ),
    (
        "q3a_fold_bn",
        FOLD_REBUILT_CONV,
        "keep the convolution's dilation",
        {"test_unseen_layers_and_statistics"},
    ),
    (
        "q3a_fold_bn",
        FOLD_ANY_BN_AFTER_LINEAR,
        "fold_bn accepted a Linear and a BatchNorm2d",
        {"test_bad_input_is_refused"},
    ),
    (
        "q3b_fold_net",
        NET_ALWAYS_FLOAT32,
        "build it in the dtype of the net it is given",
        {"test_fresh_nets_fold_within_the_bound"},
    ),
    (
        "q3b_fold_net",
        NET_TRAINED_BNS,
        "with that stage's own BN (not the trained net's)",
        {
            "test_fresh_nets_fold_within_the_bound",
            "test_the_net_is_left_as_it_was_and_bad_input_refused",
        },
    ),
    (
        "q3b_fold_net",
        NET_SWITCHES_TO_EVAL,
        "fold_net accepted a SmallNet in training mode",
        {"test_the_net_is_left_as_it_was_and_bad_input_refused"},
    ),
    (
        "q3_ex_first_mismatch",
        MISMATCH_NO_MODE_CHECK,
        "accepted the BN net in training mode",
        {"test_nets_in_training_mode_are_refused"},
    ),
    (
        "q3_ex_first_mismatch",
        MISMATCH_FIXED_RTOL,
        "use the rtol argument",
        {"test_finds_the_first_stage_on_the_same_input"},
    ),
    (
        "q3_ex_first_mismatch",
        MISMATCH_OWN_ACTIVATIONS,
        "not each net its own",
        {"test_finds_the_first_stage_on_the_same_input"},
    ),
    (
        "q3_ex_bn_before",
        NEXT_DEFAULT_EPS,
        "the BN's own eps",
        {"test_unseen_sizes_eps_and_dtypes"},
    ),
    (
        "q3_ex_bn_before",
        NEXT_NO_CHECKS,
        "fold_bn_into_next accepted a BatchNorm2d",
        {"test_bad_input_is_refused"},
    ),
]


def hidden_cases(question):
    return grading_support.hidden_cases(STEM, question)


def failures(question, namespace):
    return grading_support.hidden_failures(STEM, question, namespace)


def code_cells(cells):
    return [c for c in cells if c.cell_type == "code"]


def chapter_cells():
    return copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)


REFUSALS = "# Refused in the checks"


@pytest.fixture(scope="module")
def base_namespace():
    """The chapter's setup and network cells, run once, then the stand-in for the trained net.

    One thread while it lasts: the tests run many tiny float64 operations, and with two
    threads on a busy machine each waits ~20 ms for the other (500 times slower)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    code = code_cells(chapter_cells())
    assert code[0].source.startswith("# Setup"), "the first code cell is not the setup"
    namespace = {}
    exec(compile(code[0].source, "setup", "exec"), namespace)
    network = next(c.source for c in code if "class SmallNet(" in c.source)
    exec(compile(network, "network", "exec"), namespace)
    refusals = next(c.source for c in code if c.source.startswith(REFUSALS))
    exec(compile(refusals, "refusals", "exec"), namespace)  # by_hand, for the checks
    exec(compile(STAND_IN, "stand-in", "exec"), namespace)
    yield namespace
    torch.set_num_threads(threads)


def run_answers(base_namespace, cells, function, stub_error_ok=False):
    """A namespace with the answer cells up to `function`'s run (from `cells`), and the sources of
    `function`'s public self-check cells."""
    namespace = dict(base_namespace)
    code = code_cells(cells)
    for name in ORDER[: ORDER.index(function) + 1]:
        index = next(i for i, c in enumerate(code) if f"def {name}(" in c.source)
        try:  # fold_net's cell calls fold_net after defining it: a stub raises there
            exec(compile(code[index].source, name, "exec"), namespace)
        except NotImplementedError:
            if not stub_error_ok:
                raise
    checks, start = [], index + 1
    for marker in CHECK_CELLS[function]:
        start = next(i for i in range(start, len(code)) if marker in code[i].source)
        checks.append(code[start].source)
        start += 1
    return namespace, checks


def run_checks(namespace, checks):
    for source in checks:
        exec(compile(source, "self-check", "exec"), namespace)


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    written = [q["name"] for q in QUESTIONS if q.get("written")]
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(
        set(names) - set(written)
    )
    assert sorted(AUTOGRADED) == sorted(set(names) - set(written))
    for name in names:
        assert f"Question `{name}`" in source, f"the chapter does not pose {name}"
    for name in written:
        assert f"Question `{name}` (written, graded by hand)" in source
        assert f'"written_answer": "{name}"' in source, (
            f"{name}: no answer cell marked in the chapter"
        )
    for name in AUTOGRADED:
        points = hidden_cases(name)[0].points
        shown = f"Question `{name}` (autograded, {points} point{'s' * (points != 1)})"
        assert shown in source, f"the chapter must pose {shown}"
    # the questions in the order the chapter poses them
    posed = re.findall(r"Question `(\w+)`", source)
    assert sorted(set(posed), key=posed.index) == names


@pytest.mark.parametrize("question", sorted(AUTOGRADED))
def test_the_solution_passes_the_hidden_tests(question, base_namespace):
    namespace, checks = run_answers(
        base_namespace, chapter_cells(), AUTOGRADED[question]
    )
    run_checks(namespace, checks)
    module, cases = hidden_cases(question)
    assert module.name == question and module.points > 0 and len(cases) >= 2
    assert all(case.hidden for case in cases)
    assert failures(question, namespace) == {}


@pytest.mark.parametrize("question", sorted(AUTOGRADED))
def test_the_untouched_stub_fails_every_hidden_test(question, base_namespace):
    cells = chapter_cells()
    for cell in code_cells(cells):
        cell.source = make_student.stub_source(cell.source, "test")
    namespace, _ = run_answers(
        base_namespace, cells, AUTOGRADED[question], stub_error_ok=True
    )
    _, cases = hidden_cases(question)
    failed = failures(question, namespace)
    assert sorted(failed) == sorted(c.test_func.__name__ for c in cases)
    assert all("NotImplementedError" in message for message in failed.values()), failed


@pytest.mark.parametrize(
    "question,wrong,phrase,failing",
    WRONG_ANSWERS,
    ids=[f"{q}-{i}" for i, (q, _, _, _) in enumerate(WRONG_ANSWERS)],
)
def test_a_wrong_answer_that_passes_the_self_check_fails_a_hidden_test(
    question, wrong, phrase, failing, base_namespace
):
    cells = chapter_cells()
    replace_solution(cells, AUTOGRADED[question], wrong)
    namespace, checks = run_answers(base_namespace, cells, AUTOGRADED[question])
    run_checks(namespace, checks)  # the public checks let it through
    failed = failures(question, namespace)
    assert set(failed) == failing, failed
    assert any(phrase in message for message in failed.values()), failed


FOLD_NO_EPS = FOLD_CHECKS + FOLD_MATH.replace(" + EPS", "")
FOLD_BIAS_NOT_SCALED = FOLD_CHECKS + FOLD_MATH.replace("EPS", "bn.eps").replace(
    "scale * (bias - bn.running_mean) + shift",
    "bias + shift - scale * bn.running_mean",
)
FOLD_IN_PLACE = FOLD_CHECKS + FOLD_MATH.replace("EPS", "bn.eps").replace(
    "copy.deepcopy(layer)", "layer"
)
FOLD_NO_TRAINING_CHECK = FOLD_CHECKS.replace(
    "if bn.training:", "if False:"
) + FOLD_MATH.replace("EPS", "bn.eps")
# Both modules chained in a new Sequential: the right outputs, but no fold.
FOLD_AS_SEQUENCE = (
    FOLD_CHECKS + "    return nn.Sequential(copy.deepcopy(layer), copy.deepcopy(bn))"
)
# The statistics of the BN itself are changed to absorb eps.
FOLD_EPS_INTO_BN = FOLD_CHECKS + (
    "    bn.running_var.add_(bn.eps)\n" + FOLD_MATH.replace(" + EPS", "")
)
NET_FC2_NOT_COPIED = (
    NET_CHECK
    + "    test_net = SmallNetTest()\n"
    + NET_BODY.replace(
        "test_net.fc2[0].load_state_dict(net.fc2[0].state_dict())", "pass"
    )
)
NET_BN_AS_IDENTITY = """\
    net_test = copy.deepcopy(net)
    for name in ("conv1", "conv2", "fc1"):
        stage = getattr(net_test, name)
        stage[0] = fold_bn(stage[0], stage[1])
        stage[1] = nn.Identity()
    return net_test"""

# (function, wrong body, a phrase of the self-check's failure message)
CAUGHT_BY_THE_SELF_CHECK = [
    ("fold_bn", FOLD_NO_EPS, "the folded weight is wrong"),
    ("fold_bn", FOLD_BIAS_NOT_SCALED, "the weight is right but the bias is wrong"),
    ("fold_bn", FOLD_IN_PLACE, "fold_bn changed the layer it was given"),
    ("fold_bn", FOLD_NO_TRAINING_CHECK, "training mode: accepted, expected ValueError"),
    ("fold_bn", FOLD_AS_SEQUENCE, "fold_bn returned a Sequential, not a single"),
    ("fold_bn", FOLD_EPS_INTO_BN, "fold_bn changed the batch norm it was given"),
    ("fold_net", NET_FC2_NOT_COPIED, "the folded net differs from the BN net"),
    ("fold_net", NET_BN_AS_IDENTITY, "fill a new SmallNetTest"),
]


@pytest.mark.parametrize(
    "function,wrong,phrase",
    CAUGHT_BY_THE_SELF_CHECK,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(CAUGHT_BY_THE_SELF_CHECK)],
)
def test_the_self_check_names_a_plausible_mistake(
    function, wrong, phrase, base_namespace
):
    cells = chapter_cells()
    replace_solution(cells, function, wrong)
    namespace, checks = run_answers(base_namespace, cells, function)
    with pytest.raises(namespace["CheckFailed"], match=re.escape(phrase)):
        run_checks(namespace, checks)


# PyTorch's fusion, the reference of the checks, called as the answer: the public checks refuse it,
# and so must the hidden tests, which alone give the points.
FOLD_BY_FUSION = (
    FOLD_CHECKS
    + """\
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval
    fuse = fuse_conv_bn_eval if isinstance(layer, nn.Conv2d) else fuse_linear_bn_eval
    return fuse(copy.deepcopy(layer).eval(), bn)"""
)
NET_BY_FUSION = (
    NET_CHECK
    + """\
    from torch.nn.utils import fusion
    test_net = SmallNetTest().to(net.fc2[0].weight.dtype)
    with torch.no_grad():
        for name, fuse in [("conv1", fusion.fuse_conv_bn_eval),
                           ("conv2", fusion.fuse_conv_bn_eval),
                           ("fc1", fusion.fuse_linear_bn_eval)]:
            layer, bn = getattr(net, name)[0], getattr(net, name)[1]
            fused = fuse(copy.deepcopy(layer), bn)
            getattr(test_net, name)[0].load_state_dict(fused.state_dict())
        test_net.fc2[0].load_state_dict(net.fc2[0].state_dict())
    return test_net.eval()"""
)
# (question, answer, a hidden test that refuses the fusion, every hidden test that fails): every test
# that folds fails; the refusal of bad input passes for fold_bn, not for fold_net, since PyTorch's fusion
# refuses a training-mode BN with an AssertionError where the question asks for ValueError.
FUSION_ANSWERS = [
    (
        "q3a_fold_bn",
        FOLD_BY_FUSION,
        "test_unseen_layers_and_statistics",
        {
            "test_unseen_layers_and_statistics",
            "test_the_layer_and_the_bn_are_left_as_they_were",
        },
    ),
    (
        "q3b_fold_net",
        NET_BY_FUSION,
        "test_fresh_nets_fold_within_the_bound",
        {
            "test_fresh_nets_fold_within_the_bound",
            "test_the_net_is_left_as_it_was_and_bad_input_refused",
        },
    ),
]


@pytest.mark.parametrize(
    "question,body,refusing,failing", FUSION_ANSWERS, ids=["fold_bn", "fold_net"]
)
def test_an_answer_by_pytorchs_fusion_is_refused(
    question, body, refusing, failing, base_namespace
):
    function = AUTOGRADED[question]
    cells = chapter_cells()
    replace_solution(cells, function, body)
    namespace, checks = run_answers(base_namespace, cells, function)
    refused = f"{function} called torch.nn.utils.fusion.fuse_"
    with pytest.raises(namespace["CheckFailed"], match=re.escape(refused)):
        run_checks(namespace, checks)
    # the answer itself works: without the refusal it folds the stand-in net
    torch = namespace["torch"]
    net = namespace["net"]
    if question == "q3a_fold_bn":
        layer, bn = net.conv1[0], net.conv1[1]
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            assert torch.allclose(
                namespace[function](layer, bn)(x), bn(layer(x)), atol=1e-5
            )
    else:
        outputs = namespace["outputs_by_batch"]
        folded = outputs(namespace[function](net), namespace["test_inputs"])
        assert torch.allclose(folded, namespace["net_outputs"], atol=1e-4)
    failed = failures(question, namespace)
    assert set(failed) == failing, failed
    assert refused in failed[refusing]
