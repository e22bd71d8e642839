"""Chapter 2's hidden tests (grading/02_alexnet_counting/tests): the solution passes them, the untouched
stubs fail them, and for every autograded question a plausible wrong answer that passes the notebook's
public self-check fails a known set of them, with a message that names the mistake. The self-checks name
the mistakes they catch.

Only the cells a question needs run, in this process (no kernel, no timing section): under ~20 s."""

import copy
import re
import sys

import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT, SOLUTION_REGION

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "02_alexnet_counting"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]

# The chapter's code cells a question needs, each found by a phrase only it contains.
PREFIX = ("# Setup.", "class AlexNet(nn.Module):", "def leaves(model):")
CELL = {
    "layer_kind": "def layer_kind(",
    "count_parameters": "def count_parameters(",
    "q2a_check": "# Self-check (q2a_params)",
    "param_glue": "conv_p, lin_p, all_p = (",
    "output_size": "def output_size(",
    "size_check": "# Self-check (q2b_output_size)",
    "rule": "def _conv_or_linear(",
    "rules": "OP_RULES = {",
    "count_ops": "def count_ops(",
    "ops_check": "# Self-check (q2b_ops)",
    "answers": "ANSWER_KEYS = (",
    "answers_check": "# Self-check (q2c_answers)",
    "ops_glue": "conv_m, lin_m = ops[",
    "flop_check": "def flop_counter_check(",
    "conv_counts": "def conv_counts(",
    "conv_counts_check": "# Self-check for the exercise: conv_counts",
    "grouped": "def alexnet_grouped(",
    "grouped_check": "# Self-check: every layer of the grouped network",
}
OPS = ["layer_kind", "output_size", "rule", "rules", "count_ops"]
# question: (the cells to run, in order, the last being its self-check; its answer cells)
NEEDS = {
    "q2a_params": (
        ["layer_kind", "count_parameters", "q2a_check"],
        ["count_parameters"],
    ),
    "q2b_output_size": (["output_size", "size_check"], ["output_size"]),
    "q2b_ops": (
        [
            "layer_kind",
            "output_size",
            *OPS[2:],
            "ops_check",
        ],
        ["rule", "count_ops"],
    ),
    "q2c_answers": (
        ["layer_kind", "count_parameters", *OPS[1:], "answers", "answers_check"],
        ["answers"],
    ),
    "q2_ex_conv_counts": (
        [*OPS[:1], "count_parameters", *OPS[1:], "flop_check", "conv_counts"]
        + ["conv_counts_check"],
        ["conv_counts"],
    ),
    "q2_ex_grouped": (
        ["layer_kind", "count_parameters", "param_glue", *OPS[1:], "ops_glue"]
        + ["grouped", "grouped_check"],
        ["grouped"],
    ),
}
AUTOGRADED = [q["name"] for q in QUESTIONS if not q.get("written")]

# --- Plausible wrong answers that pass the public self-check ------------------------------------------
ONLY_CONV_AND_LINEAR = """\
    if not isinstance(model, nn.Module):
        raise TypeError("count_parameters expects an nn.Module")
    rows = []
    for name, module in model.named_modules():
        if layer_kind(module) == "other":
            continue
        biases = module.bias.numel() if module.bias is not None else 0
        weights = module.weight.numel()
        rows.append({"layer": name, "type": type(module).__name__,
                     "kind": layer_kind(module), "weights": weights,
                     "biases": biases, "total": weights + biases})
    totals = {k: {"weights": 0, "biases": 0, "total": 0}
              for k in ("conv", "linear", "other", "all")}
    for row in rows:
        for kind in (row["kind"], "all"):
            for key in ("weights", "biases", "total"):
                totals[kind][key] += row[key]
    return rows, totals"""
BIAS_BY_SHAPE = """\
    if not isinstance(model, nn.Module):
        raise TypeError("count_parameters expects an nn.Module")
    rows, seen = [], set()
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        if not own:
            continue
        seen.update(id(p) for p in own)
        biases = sum(p.numel() for p in own if p.ndim == 1)
        weights = sum(p.numel() for p in own if p.ndim != 1)
        rows.append({"layer": name, "type": type(module).__name__,
                     "kind": layer_kind(module), "weights": weights,
                     "biases": biases, "total": weights + biases})
    totals = {k: {"weights": 0, "biases": 0, "total": 0}
              for k in ("conv", "linear", "other", "all")}
    for row in rows:
        for kind in (row["kind"], "all"):
            for key in ("weights", "biases", "total"):
                totals[kind][key] += row[key]
    return rows, totals"""
SHARED_COUNTED_TWICE = """\
    if not isinstance(model, nn.Module):
        raise TypeError("count_parameters expects an nn.Module")
    rows = []
    for name, module in model.named_modules():
        own = list(module.named_parameters(recurse=False))
        if not own:
            continue
        biases = sum(p.numel() for pname, p in own if pname == "bias")
        weights = sum(p.numel() for pname, p in own if pname != "bias")
        rows.append({"layer": name, "type": type(module).__name__,
                     "kind": layer_kind(module), "weights": weights,
                     "biases": biases, "total": weights + biases})
    totals = {k: {"weights": 0, "biases": 0, "total": 0}
              for k in ("conv", "linear", "other", "all")}
    for row in rows:
        for kind in (row["kind"], "all"):
            for key in ("weights", "biases", "total"):
                totals[kind][key] += row[key]
    return rows, totals"""
FLOAT_DIVISION = """\
    if min(k, s, d) < 1 or p < 0:
        raise ValueError("k, s and d must be >= 1 and p >= 0")
    if n + 2 * p < d * (k - 1) + 1:
        raise ValueError("the window does not fit")
    return math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1"""
ONLY_THE_FIT_CHECKED = """\
    if n + 2 * p < d * (k - 1) + 1:
        raise ValueError("the window does not fit")
    return (n + 2 * p - d * (k - 1) - 1) // s + 1"""
KERNEL_IN_TWO_DIMENSIONS = """\
    if isinstance(module, nn.Linear):
        terms = module.in_features
    else:
        kh, kw = module.kernel_size[0], module.kernel_size[-1]
        terms = module.in_channels // module.groups * kh * kw
    outputs = output.numel()
    return outputs * terms, outputs * (terms - 1) + (outputs if module.bias is not None else 0)"""
LINEAR_IGNORES_THE_BATCH = """\
    if isinstance(module, nn.Linear):
        mults = module.in_features * module.out_features
        bias = module.out_features if module.bias is not None else 0
        return mults, mults - module.out_features + bias
    terms = module.weight.shape[1:].numel()
    outputs = output.numel()
    return outputs * terms, outputs * (terms - 1) + (outputs if module.bias is not None else 0)"""
MODE_NOT_RESTORED = """\
    if not isinstance(model, nn.Module):
        raise TypeError("count_ops expects an nn.Module")
    if not isinstance(input_shape, (tuple, list, torch.Size)) or len(input_shape) < 2 or not all(
        isinstance(v, int) and v > 0 for v in input_shape
    ):
        raise ValueError("input_shape must be a tuple of positive ints")
    unknown = [f"'{n}' ({type(m).__name__})" for n, m in leaves(model) if type(m) not in OP_RULES]
    if unknown:
        raise TypeError(f"count_ops has no rule for layer {', '.join(unknown)}")
    rows, handles = [], []

    def make_hook(name):
        def hook(module, inputs, output):
            mults, adds = OP_RULES[type(module)](module, inputs, output)
            rows.append({"layer": name, "type": type(module).__name__,
                         "kind": layer_kind(module), "input_shape": tuple(inputs[0].shape),
                         "output_shape": tuple(output.shape), "mults": int(mults),
                         "adds": int(adds)})
        return hook

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    for name, m in leaves(model):
        handles.append(m.register_forward_hook(make_hook(name)))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(tuple(input_shape), device=device))
    for h in handles:
        h.remove()
    return rows"""
AT_224 = """\
measured = op_totals(count_ops(alexnet, (1, 3, 224, 224)))
answers = {
    "params": param_totals["all"]["total"],
    "conv_params": param_totals["conv"]["total"],
    "linear_params": param_totals["linear"]["total"],
    "mults": measured["all"]["mults"],
    "conv_mults": measured["conv"]["mults"],
    "linear_mults": measured["linear"]["mults"],
    "adds": measured["all"]["adds"],
    "conv_adds": measured["conv"]["adds"],
    "linear_adds": measured["linear"]["adds"],
}
for kind in ("conv", "linear"):
    answers[f"{kind}_param_share"] = answers[f"{kind}_params"] / answers["params"]
    answers[f"{kind}_mult_share"] = answers[f"{kind}_mults"] / answers["mults"]"""
FLOPS_AS_MULTIPLICATIONS = """\
from torch.utils.flop_counter import FlopCounterMode
measured = op_totals(count_ops(alexnet, INPUT))
with FlopCounterMode(display=False) as counter, torch.no_grad():
    alexnet(torch.zeros(INPUT))
flops = counter.get_flop_counts()
answers = {
    "params": param_totals["all"]["total"],
    "conv_params": param_totals["conv"]["total"],
    "linear_params": param_totals["linear"]["total"],
    "conv_mults": sum(sum(flops[f"AlexNet.{r['layer']}"].values()) for r in count_ops(
        alexnet, INPUT) if r["kind"] == "conv"),
    "linear_mults": sum(sum(flops[f"AlexNet.{r['layer']}"].values()) for r in count_ops(
        alexnet, INPUT) if r["kind"] == "linear"),
    "adds": measured["all"]["adds"],
    "conv_adds": measured["conv"]["adds"],
    "linear_adds": measured["linear"]["adds"],
}
answers["mults"] = answers["conv_mults"] + answers["linear_mults"]
for kind in ("conv", "linear"):
    answers[f"{kind}_param_share"] = answers[f"{kind}_params"] / answers["params"]
    answers[f"{kind}_mult_share"] = answers[f"{kind}_mults"] / answers["mults"]"""
NO_GROUPS_CHECK = """\
    if n + 2 * p < k:
        raise ValueError("the kernel does not fit")
    out = (n + 2 * p - k) // s + 1
    terms = (c_in // groups) * k * k
    outputs = c_out * out * out
    return {"out": out, "params": c_out * terms + (c_out if bias else 0),
            "mults": outputs * terms,
            "adds": outputs * (terms - 1) + (outputs if bias else 0)}"""
GROUPS_FIXED_AT_TWO = """\
    model = AlexNet()
    for index in (3, 8, 10):
        old = model.features[index]
        model.features[index] = nn.Conv2d(old.in_channels, old.out_channels,
                                          old.kernel_size, stride=old.stride,
                                          padding=old.padding, groups=2)
    return model"""

# (question, answer cell, wrong body, the hidden cases it fails, a phrase of their messages)
WRONG_ANSWERS = [
    (
        "q2a_params",
        "count_parameters",
        ONLY_CONV_AND_LINEAR,
        {
            "test_every_module_owning_parameters_is_a_row",
            "test_weights_and_biases_by_name_and_kind",
            "test_a_shared_tensor_counts_once",
            "test_torchvision_networks",
        },
        "every module that owns parameters itself is a row",
    ),
    (
        "q2a_params",
        "count_parameters",
        BIAS_BY_SHAPE,
        {"test_weights_and_biases_by_name_and_kind", "test_torchvision_networks"},
        "a parameter named 'bias' is a bias",
    ),
    (
        "q2a_params",
        "count_parameters",
        SHARED_COUNTED_TWICE,
        {"test_a_shared_tensor_counts_once"},
        "a tensor shared by several modules counts once",
    ),
    (
        "q2b_output_size",
        "output_size",
        FLOAT_DIVISION,
        {"test_exact_for_sizes_too_large_for_floats"},
        "a float has 53 bits",
    ),
    (
        "q2b_output_size",
        "output_size",
        ONLY_THE_FIT_CHECKED,
        {"test_bad_input_is_refused"},
        "(stride 0) must raise ValueError, got ZeroDivisionError",
    ),
    (
        "q2b_ops",
        "rule",
        KERNEL_IN_TWO_DIMENSIONS,
        {"test_convolutions_of_every_dimension"},
        "in 1, 2 or 3 dimensions",
    ),
    (
        "q2b_ops",
        "rule",
        LINEAR_IGNORES_THE_BATCH,
        {
            "test_linear_layers_on_batches_and_sequences",
            "test_networks_the_chapter_never_shows",
        },
        "for every row of its input",
    ),
    (
        "q2b_ops",
        "count_ops",
        MODE_NOT_RESTORED,
        {"test_the_model_is_left_as_it_was"},
        "restore the mode you found",
    ),
    (
        "q2c_answers",
        "answers",
        AT_224,
        {"test_multiplications_and_additions", "test_conv_and_linear_shares"},
        "is the count for a 224x224 input",
    ),
    (
        "q2c_answers",
        "answers",
        FLOPS_AS_MULTIPLICATIONS,
        {"test_multiplications_and_additions"},
        "FlopCounterMode counts two FLOPs per multiply-add",
    ),
    (
        "q2_ex_conv_counts",
        "conv_counts",
        NO_GROUPS_CHECK,
        {"test_bad_input_is_refused"},
        "must raise ValueError, not count",
    ),
    (
        "q2_ex_grouped",
        "grouped",
        GROUPS_FIXED_AT_TWO,
        {"test_groups_other_than_two"},
        "group conv2, conv4 and conv5 by the argument",
    ),
]

# --- Plausible wrong answers that the public self-check catches, naming the mistake --------------------
CHILDREN_COUNTED_AGAIN = SHARED_COUNTED_TWICE.replace("recurse=False", "recurse=True")
NO_DILATION = """\
    if min(k, s, d) < 1 or p < 0:
        raise ValueError("bad arguments")
    if n + 2 * p < k:
        raise ValueError("the window does not fit")
    return (n + 2 * p - k) // s + 1"""
NO_GROUPS = """\
    terms = module.in_channels * math.prod(module.kernel_size) if hasattr(
        module, "kernel_size") else module.in_features
    outputs = output.numel()
    return outputs * terms, outputs * (terms - 1) + (outputs if module.bias is not None else 0)"""
WEIGHTS_AS_MULTIPLICATIONS = """\
    terms = module.weight.shape[1:].numel()
    outputs = output.numel()
    adds = outputs * (terms - 1) + (outputs if module.bias is not None else 0)
    return module.weight.numel(), adds"""
# the linear layers' rows dropped (as if only convolutions were counted)
LINEAR_AS_OTHER = MODE_NOT_RESTORED.replace(
    "for name, m in leaves(model):\n        handles.append(",
    "for name, m in leaves(model):\n        if isinstance(m, nn.Linear):\n            continue\n        handles.append(",
)
BIAS_ALWAYS_ADDED = """\
    terms = module.weight.shape[1:].numel()
    outputs = output.numel()
    return outputs * terms, outputs * terms"""
UNKNOWN_COUNTED_AS_ZERO = MODE_NOT_RESTORED.replace(
    "if type(m) not in OP_RULES]", "if False]"
).replace(
    "OP_RULES[type(module)](module, inputs, output)",
    "OP_RULES.get(type(module), lambda *a: (0, 0))(module, inputs, output)",
)
PERCENTAGES = re.sub(
    r"(answers\[f\"\{kind\}_\w+_share\"\] = .*)", r"\1 * 100", AT_224
).replace("(1, 3, 224, 224)", "INPUT")
CAUGHT_BY_THE_SELF_CHECK = [
    (
        "q2a_params",
        "count_parameters",
        CHILDREN_COUNTED_AGAIN,
        "not its children's again",
    ),
    (
        "q2b_output_size",
        "output_size",
        NO_DILATION,
        "the window fits when n + 2p >= d(k - 1)",
    ),
    (
        "q2b_ops",
        "rule",
        NO_GROUPS,
        "each a dot product of (C_in / groups) k_h k_w terms",
    ),
    ("q2b_ops", "rule", WEIGHTS_AS_MULTIPLICATIONS, "features.0 (Conv2d), too few"),
    (
        "q2b_ops",
        "count_ops",
        LINEAR_AS_OTHER,
        "count_ops has no row for classifier.0 (Linear)",
    ),
    ("q2b_ops", "rule", BIAS_ALWAYS_ADDED, "read beta from module.bias"),
    ("q2b_ops", "count_ops", UNKNOWN_COUNTED_AS_ZERO, "is an error, not zero"),
    ("q2c_answers", "answers", PERCENTAGES, "(not a percentage)"),
]


# --- Running cells ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chapter():
    return jupytext.read(CHAPTERS / f"{STEM}.md").cells


def code_cell(cells, key):
    phrase = CELL.get(key, key)
    found = [c for c in cells if c.cell_type == "code" and phrase in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {phrase!r}"
    return found[0]


@pytest.fixture(scope="module")
def prefix(chapter):
    """The setup cell, the network and the layer helpers, run once; glue is a no-op here."""
    namespace = {}
    for i, phrase in enumerate(PREFIX):
        exec(compile(code_cell(chapter, phrase).source, phrase, "exec"), namespace)
        if i == 0:
            namespace["glue"] = lambda *args, **kwargs: None
    return namespace


def replace_region(cells, key, body):
    cell = code_cell(cells, key)
    cell.source, count = SOLUTION_REGION.subn(
        lambda m: m.group(1) + body + m.group(2), cell.source
    )
    assert count == 1, f"{key}: expected one solution region, found {count}"


def run(prefix, chapter, question, wrong=(), stubbed=False, with_check=True):
    """A namespace with the cells `question` needs run (its self-check last, if with_check), with
    `wrong` = [(answer cell, body)] put in; stubbed: every solution region is a stub and a cell that
    fails is passed over, as in an unanswered notebook."""
    cells = copy.deepcopy(chapter)
    for key, body in wrong:
        replace_region(cells, key, body)
    keys = NEEDS[question][0] if with_check else NEEDS[question][0][:-1]
    namespace = dict(prefix)
    for key in keys:
        source = code_cell(cells, key).source
        if stubbed:
            source = make_student.stub_source(source, key)
            try:
                exec(compile(source, key, "exec"), namespace)
            except Exception:  # noqa: BLE001 - an unanswered notebook goes on after errors
                pass
        else:
            exec(compile(source, key, "exec"), namespace)
    return namespace


def hidden_cases(question):
    return grading_support.hidden_cases(STEM, question)


def failures(question, namespace):
    return grading_support.hidden_failures(STEM, question, namespace)


# --- Tests -------------------------------------------------------------------------------------------
def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    assert not any(q.get("written") for q in QUESTIONS)
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(names)
    assert sorted(NEEDS) == sorted(AUTOGRADED)
    posed = re.findall(r"Question `(\w+)` \(autograded, (\d+) points?\)", source)
    assert [name for name, _ in posed] == names, "the questions, in problem order"
    for name, shown in posed:
        module, _ = hidden_cases(name)
        assert int(shown) == module.points, f"{name}: the prose shows {shown} points"
        assert (shown == "1") == (f"`{name}` (autograded, 1 point)" in source)


@pytest.mark.parametrize("question", AUTOGRADED)
def test_the_solution_passes_the_hidden_tests(question, prefix, chapter):
    namespace = run(prefix, chapter, question)  # its self-check passes too
    module, cases = hidden_cases(question)
    assert module.name == question and module.points > 0 and len(cases) >= 2
    assert all(case.hidden for case in cases)
    assert failures(question, namespace) == {}


@pytest.mark.parametrize("question", AUTOGRADED)
def test_the_untouched_stub_fails_every_hidden_test(question, prefix, chapter):
    namespace = run(prefix, chapter, question, stubbed=True, with_check=False)
    _, cases = hidden_cases(question)
    failed = failures(question, namespace)
    assert sorted(failed) == sorted(c.test_func.__name__ for c in cases)
    why = (
        "answers lacks the keys" if question == "q2c_answers" else "NotImplementedError"
    )
    assert all(why in message for message in failed.values()), failed


@pytest.mark.parametrize(
    "question,cell,wrong,fails,phrase",
    WRONG_ANSWERS,
    ids=[f"{q}-{i}" for i, (q, *_) in enumerate(WRONG_ANSWERS)],
)
def test_a_wrong_answer_that_passes_the_self_check_fails_a_hidden_test(
    question, cell, wrong, fails, phrase, prefix, chapter
):
    namespace = run(prefix, chapter, question, [(cell, wrong)])  # the self-check passes
    failed = failures(question, namespace)
    assert set(failed) == fails, failed
    assert any(phrase in message for message in failed.values()), failed


@pytest.mark.parametrize(
    "question,cell,wrong,phrase",
    CAUGHT_BY_THE_SELF_CHECK,
    ids=[f"{q}-{i}" for i, (q, *_) in enumerate(CAUGHT_BY_THE_SELF_CHECK)],
)
def test_the_self_check_names_a_plausible_mistake(
    question, cell, wrong, phrase, prefix, chapter
):
    namespace = run(prefix, chapter, question, [(cell, wrong)], with_check=False)
    check_cell = code_cell(chapter, NEEDS[question][0][-1]).source
    with pytest.raises(namespace["CheckFailed"], match=re.escape(phrase)):
        exec(compile(check_cell, "self-check", "exec"), namespace)


def test_answers_score_nothing_the_tools_did_not_compute(prefix, chapter):
    # The right values, typed (or copied from the public checks), beside a count_ops that does not
    # work: the self-check lets them through, the hidden tests give no points for what the tools
    # did not compute.
    solved = run(prefix, chapter, "q2c_answers")
    typed = "answers = " + repr(
        {key: solved["answers"][key] for key in solved["ANSWER_KEYS"]}
    )
    assert "count_ops" not in typed
    counts_nothing = (
        "    return [{'layer': name, 'type': type(m).__name__, 'kind': layer_kind(m),\n"
        "             'input_shape': (), 'output_shape': (), 'mults': 0, 'adds': 0}\n"
        "            for name, m in leaves(model)]"
    )
    namespace = run(
        prefix,
        chapter,
        "q2c_answers",
        [("count_ops", counts_nothing), ("answers", typed)],
    )
    failed = failures("q2c_answers", namespace)
    assert set(failed) == {
        "test_multiplications_and_additions",
        "test_conv_and_linear_shares",
    }, failed
    assert all("take the answers from your tools" in m for m in failed.values()), failed
