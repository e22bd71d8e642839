"""The helper module's behaviour: checks, glue outside the book, the CIFAR-10 loader's choices and errors,
provenance, and each refusal (it refuses the library call, lets the computation by hand through, and
leaves nothing patched behind)."""

import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from numpy import correlate as correlate_by_another_name
from torch import nn
from torch.nn import functional as F

import dlbook

SOURCE = Path(dlbook.__file__)


def test_check_prints_on_success_and_names_the_mistake_on_failure(capsys):
    dlbook.check(True, "all good", "never shown")
    assert capsys.readouterr().out == "PASSED: all good\n"
    with pytest.raises(dlbook.CheckFailed, match="^FAILED: the bias is wrong$"):
        dlbook.check(False, "never shown", "the bias is wrong")


def test_self_check_runs_the_public_cases_on_the_callers_names(capsys):
    # the template's question (templates/qN_answer.py): its public case asks answer(21) == 42;
    # this answer fails its hidden cases, which the self-check does not run
    dlbook.self_check("qN_answer", namespace={"answer": lambda n: 42})
    assert capsys.readouterr().out == "PASSED (qN_answer): answer(21) == 42\n"


def test_self_check_fails_with_the_cases_message_or_asks_for_the_answer():
    with pytest.raises(dlbook.CheckFailed, match=r"^FAILED \(qN_answer\): .*double n"):
        dlbook.self_check("qN_answer", namespace={"answer": lambda n: n + 2})
    with pytest.raises(dlbook.CheckFailed, match="define answer first"):
        dlbook.self_check("qN_answer", namespace={})
    with pytest.raises(LookupError, match="q9_unknown"):
        dlbook.public_cases("q9_unknown")


def test_must_raise_returns_the_error_and_names_what_else_happened():
    def divide(a, b=1):
        return a / b

    error = dlbook.must_raise(ZeroDivisionError, divide, 1, b=0, what="divide(1, 0)")
    assert isinstance(error, ZeroDivisionError)
    assert isinstance(
        dlbook.must_raise((TypeError, ValueError), divide, "1", what="divide('1')"),
        TypeError,
    )
    with pytest.raises(
        AssertionError, match=r"^divide\(1\) must raise ValueError, not return$"
    ):
        dlbook.must_raise(ValueError, divide, 1, what="divide(1)")
    with pytest.raises(AssertionError, match=r"must raise ValueError, not divide$"):
        dlbook.must_raise(ValueError, divide, 1, what="divide(1)", instead="not divide")
    with pytest.raises(
        AssertionError,
        match=r"^divide\(1, 0\) must raise ValueError or TypeError, got "
        r"ZeroDivisionError: division by zero$",
    ):
        dlbook.must_raise((ValueError, TypeError), divide, 1, 0, what="divide(1, 0)")


def test_within_returns_the_result_or_stops_an_endless_loop_and_restores_the_alarm():
    import signal

    assert dlbook.within(1, divmod, 7, 2) == (3, 1)
    if not hasattr(signal, "SIGALRM"):
        pytest.skip("no SIGALRM here: within only runs the function")

    def forever():
        while True:
            pass

    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(TimeoutError, match=r"^still running after 0.2 s$"):
        dlbook.within(0.2, forever)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_relative_gap_is_relative_to_the_largest_entry_and_checks_the_shape():
    want = torch.tensor([[4.0, -8.0]])
    assert dlbook.relative_gap(want + torch.tensor([[0.0, 2.0]]), want) == 0.25
    with pytest.raises(AssertionError, match=r"^shape \(2,\), expected \(1, 2\)$"):
        dlbook.relative_gap(torch.zeros(2), want)
    with pytest.raises(AssertionError, match="^wrong map$"):
        dlbook.relative_gap(torch.zeros(2, 1), want, "wrong map")


def test_random_layers_draws_each_value_in_its_range_in_order():
    import random

    rng = random.Random(5)
    layer = lambda *values: values  # noqa: E731
    stacks = [dlbook.random_layers(rng, layer, 3, (1, 2), (0, 0)) for _ in range(50)]
    assert {len(stack) for stack in stacks} == {1, 2, 3}
    assert {layer for stack in stacks for layer in stack} == {(1, 0), (2, 0)}
    again = random.Random(5)  # the depth first, then the values layer by layer
    depth = again.randint(1, 3)
    layers = [(again.randint(1, 2), again.randint(0, 0)) for _ in range(depth)]
    assert stacks[0] == layers


def test_glue_outside_the_book_shows_the_value(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as in Colab: no myst_nb
    spec = importlib.util.spec_from_file_location("dlbook_in_colab", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.glue("ch0_x", 41 + 1)
    module.glue("ch0_y", 7, display=False)
    assert capsys.readouterr().out.split() == ["42"]


def test_seed_everything_repeats_every_generator():
    dlbook.seed_everything(3)
    first = (
        torch.rand(2),
        __import__("numpy").random.rand(),
        __import__("random").random(),
    )
    dlbook.seed_everything(3)
    second = (
        torch.rand(2),
        __import__("numpy").random.rand(),
        __import__("random").random(),
    )
    assert torch.equal(first[0], second[0]) and first[1:] == second[1:]


def _train(calls, value=1.0):
    """A stand-in for training: counts its calls, returns a state like the chapters'."""
    calls.append(value)
    return {"state_dict": {"w": torch.full((3,), value)}, "mean": value}


def _cached(calls, key=None, code=_train, value=1.0):
    result, _ = dlbook.cached("net.pt", lambda: _train(calls, value), key or {}, code)
    return result["state_dict"]["w"][0].item()


def test_cached_loads_only_what_it_verified(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DL_BOOK_DATA", str(tmp_path))
    monkeypatch.delenv(dlbook.CACHE_DIGESTS, raising=False)
    calls, path = [], tmp_path / "net.pt"
    assert _cached(calls) == _cached(calls) == 1.0 and len(calls) == 1  # then loaded
    assert "checksum verified" in capsys.readouterr().out
    data = path.read_bytes()
    path.write_bytes(data[:-9] + bytes([data[-9] ^ 1]) + data[-8:])  # one bit flipped
    assert _cached(calls) == 1.0 and len(calls) == 2  # corrupted: trained again
    assert "fails its checksum" in capsys.readouterr().out
    saved = {p: p.read_bytes() for p in tmp_path.iterdir()}  # a good cache
    for other in [{"key": {"seed": 1}}, {"code": _cached}, {}]:  # seed, code, torch
        calls[:] = [p.write_bytes(data) for p, data in saved.items()][:0]
        with monkeypatch.context() as patch:
            patch.setattr(
                torch, "__version__", "0.0" if not other else torch.__version__
            )
            assert _cached(calls, **other) == 1.0 and calls == [1.0]  # made again


def test_cached_trusts_the_graders_digest_over_the_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("DL_BOOK_DATA", str(tmp_path))
    monkeypatch.delenv(dlbook.CACHE_DIGESTS, raising=False)
    calls, sums = [], tmp_path / "net.pt.sha256"
    _cached(calls)
    trusted = f'{{"net.pt": "{sums.read_text()}"}}'
    (tmp_path / "net.pt").unlink()
    assert _cached(calls, value=9.0) == _cached(calls) == 9.0  # a submission's own
    monkeypatch.setenv(dlbook.CACHE_DIGESTS, trusted)  # the grader's: refused, remade
    assert _cached(calls, value=5.0) == 5.0 and calls == [1.0, 9.0, 5.0]
    (tmp_path / "file").write_text("")  # a folder that cannot be made: not saved
    monkeypatch.setenv("DL_BOOK_DATA", str(tmp_path / "file" / "data"))
    assert _cached(calls, value=7.0) == 7.0 and calls[-1] == 7.0


def _no_download(*args, **kwargs):
    raise OSError("no network")


def _mirror(tmp_path, classes, monkeypatch):
    """A JPEG mirror in tmp_path (one image per class); the data folder, where the decoded
    images are cached, in tmp_path/data."""
    monkeypatch.setenv("DL_BOOK_DATA", str(tmp_path / "data"))
    monkeypatch.delenv(dlbook.CACHE_DIGESTS, raising=False)
    for name in classes:
        folder = tmp_path / "test" / name
        folder.mkdir(parents=True)
        image = torch.full((3, 32, 32), len(name), dtype=torch.uint8)
        torchvision.io.write_jpeg(image, str(folder / "0.jpg"))
    return tmp_path


def test_cifar10_falls_back_to_the_mirror_and_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _no_download)
    monkeypatch.setenv(
        dlbook.MIRROR_VARIABLE,
        str(_mirror(tmp_path, dlbook.CIFAR10_CLASSES, monkeypatch)),
    )
    images, labels = dlbook.load_cifar10(train=False)
    assert images.shape == (10, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.tolist() == list(range(10))
    said = capsys.readouterr().out
    # the kind of source and the count, never a local path (the page is published)
    assert "offline JPEG mirror" in said and "10 of its 10 images" in said
    assert str(tmp_path) not in said
    # decoded once: loaded next time, until the mirror changes
    again = dlbook.load_cifar10(train=False)
    assert torch.equal(again[0], images) and torch.equal(again[1], labels)
    assert "cifar10_test_mirror.pt: loaded from the cache" in capsys.readouterr().out
    torchvision.io.write_jpeg(images[0], str(tmp_path / "test" / "truck" / "1.jpg"))
    assert len(dlbook.load_cifar10(train=False)[1]) == 11
    assert "loaded from the cache" not in capsys.readouterr().out


def test_a_sample_is_a_seeded_random_subset_decoded_alone(monkeypatch, tmp_path):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _no_download)
    monkeypatch.setenv(
        dlbook.MIRROR_VARIABLE,
        str(_mirror(tmp_path, dlbook.CIFAR10_CLASSES, monkeypatch)),
    )
    images, labels = dlbook.load_cifar10(train=False)
    some, their_labels = dlbook.load_cifar10(train=False, sample=4, seed=1)
    pick = torch.randperm(10, generator=torch.Generator().manual_seed(1))[:4]
    assert torch.equal(some, images[pick]) and torch.equal(their_labels, labels[pick])
    other, _ = dlbook.load_cifar10(train=False, sample=4, seed=2)
    assert not torch.equal(other, some)


@pytest.mark.parametrize(
    "mirror, message",
    [
        (None, "is not set"),
        ("missing", "has no 'test' folder"),
        ("wrong", "expected CIFAR-10"),
    ],
)
def test_cifar10_without_data_says_how_to_get_it(
    monkeypatch, tmp_path, mirror, message
):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _no_download)
    if mirror is None:
        monkeypatch.delenv(dlbook.MIRROR_VARIABLE, raising=False)
    elif mirror == "missing":
        monkeypatch.setenv(dlbook.MIRROR_VARIABLE, str(tmp_path))
    else:
        monkeypatch.setenv(
            dlbook.MIRROR_VARIABLE, str(_mirror(tmp_path, ["cat", "dog"], monkeypatch))
        )
    with pytest.raises(RuntimeError, match=message):
        dlbook.load_cifar10(train=False)


def test_provenance_glues_what_it_prints(monkeypatch, capsys):
    glued = {}
    monkeypatch.setattr(
        dlbook, "glue", lambda name, value, display=True: glued.update({name: value})
    )
    facts = dlbook.provenance("ch9")
    assert glued == {f"ch9_measured_provenance_{k}": v for k, v in facts.items()}
    version = importlib.metadata.version("torch")
    assert f"torch {version}, " in capsys.readouterr().out


def by_library(x):
    return torch.logsumexp(x, 0)


def by_softmin(x):
    return F.softmin(x, 0)


def by_hand(x):
    m = x.max()
    return m + (x - m).exp().sum().log()


def by_autograd(x):
    x = x.clone().requires_grad_()
    by_hand(x).backward()
    return x.grad


def by_convolution(x):
    return F.conv1d(x.view(1, 1, -1), torch.ones(1, 1, 2))


def by_conv_transpose(x):
    return F.conv_transpose1d(x.view(1, 1, -1), torch.ones(1, 1, 2))


def by_sums(x):
    return x[:-1] + x[1:]


def by_numpy_correlate(x):  # under a name of the answer's own: refused all the same
    return torch.from_numpy(correlate_by_another_name(x.numpy(), [1.0, 1.0], "valid"))


@pytest.mark.parametrize(
    "function, refusal, what",
    [
        (by_library, dlbook.no_operators, "PyTorch's logsumexp"),
        (by_softmin, dlbook.no_operators, "PyTorch's softmax"),
        (by_autograd, dlbook.no_autograd, "autograd"),
        (by_convolution, dlbook.no_convolutions, "a convolution (torch.conv1d)"),
        (by_conv_transpose, dlbook.no_convolutions, "a convolution"),
        (by_numpy_correlate, dlbook.no_convolutions, "a convolution (numpy.correlate)"),
    ],
)
def test_a_refusal_stops_the_library_call_and_names_it(function, refusal, what):
    x = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(
        dlbook.CheckFailed,
        match=re.escape(f"{function.__name__} called {what}") + ".*: why$",
    ):
        dlbook.refusing(function, x, refusals=[refusal], why="why")
    function(x)  # outside it, the call works again


@pytest.mark.parametrize(
    "function, refusal",
    [
        (by_hand, dlbook.no_operators),
        (by_hand, dlbook.no_autograd),
        (by_sums, dlbook.no_convolutions),
    ],
)
def test_a_refusal_lets_the_computation_by_hand_through(function, refusal):
    x = torch.tensor([1.0, 2.0, 3.0])
    assert torch.equal(
        dlbook.refusing(function, x, refusals=[refusal], why=""), function(x)
    )


def test_the_dispatch_refusal_says_plainly_when_the_private_api_moved(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils._python_dispatch", None)
    with pytest.raises(
        RuntimeError, match="install the torch version that requirements.txt pins"
    ):
        with dlbook.no_operators():
            pass


def _layers():
    conv, bn = nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)
    bn.running_mean.uniform_(-1, 1)
    return conv.eval(), bn.eval()


def fold_by_reexport(
    conv, bn
):  # torch.nn.utils re-exports the fusion's weight functions
    weight, bias = nn.utils.fuse_conv_bn_weights(
        conv.weight,
        conv.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
        bn.weight,
        bn.bias,
    )
    return weight


from torch.nn.utils.fusion import fuse_conv_bn_eval as fuse_alias  # noqa: E402


def fold_by_alias(conv, bn):
    return fuse_alias(conv, bn).weight


def fold_by_hand(conv, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return conv.weight * scale.view(-1, 1, 1, 1)


@pytest.mark.parametrize("function", [fold_by_reexport, fold_by_alias])
def test_the_fusion_refusal_catches_reexports_and_aliases_and_restores_them(function):
    conv, bn = _layers()
    with pytest.raises(
        dlbook.CheckFailed, match="called torch.nn.utils.fusion.fuse_conv_bn"
    ):
        dlbook.refusing(
            function, conv, bn, refusals=[lambda: dlbook.no_fusion(globals())], why=""
        )
    assert torch.allclose(function(conv, bn), fold_by_hand(conv, bn), atol=1e-6)
    assert fuse_alias.__module__ == "torch.nn.utils.fusion"


def test_the_fusion_refusal_lets_a_fold_by_hand_through():
    conv, bn = _layers()
    got = dlbook.refusing(fold_by_hand, conv, bn, refusals=[dlbook.no_fusion], why="")
    assert torch.allclose(got, fold_by_reexport(conv, bn), atol=1e-6)


# --- The ready-made refusals: each refuses the library call with its reason, lets the
# computation by hand through.


def grad_by_softmax(x):
    return F.softmax(x, 0)


def grad_by_hand(x):
    e = (x - x.max()).exp()
    return e / e.sum()


@pytest.mark.parametrize(
    "wrapper, function, keywords, what, why",
    [
        (dlbook.by_hand, by_library, {}, "PyTorch's logsumexp", "computation itself"),
        (dlbook.by_hand, by_autograd, {"autograd": False}, "autograd", "itself"),
        (dlbook.from_the_geometry, by_convolution, {}, "a convolution", "k, s, p"),
    ],
)
def test_a_ready_made_refusal_names_the_call_and_why(
    wrapper, function, keywords, what, why
):
    x = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(
        dlbook.CheckFailed,
        match=re.escape(f"FAILED: {function.__name__} called {what}") + ".*" + why,
    ):
        wrapper(function, x, **keywords)


def test_by_hand_allows_autograd_unless_told_not_to():
    x = torch.tensor([1.0, 2.0, 3.0])
    assert torch.allclose(dlbook.by_hand(by_autograd, x), grad_by_hand(x))
    with pytest.raises(dlbook.CheckFailed, match="called PyTorch's softmax"):
        dlbook.by_hand(grad_by_softmax, x)


@pytest.mark.parametrize(
    "wrapper, function",
    [
        (dlbook.by_hand, by_hand),
        (dlbook.by_hand, grad_by_hand),
        (dlbook.from_the_geometry, by_sums),
    ],
)
def test_a_ready_made_refusal_lets_the_computation_by_hand_through(wrapper, function):
    x = torch.tensor([1.0, 2.0, 3.0])
    assert torch.equal(wrapper(function, x), function(x))
    assert torch.equal(dlbook.by_hand(grad_by_hand, x, autograd=False), grad_by_hand(x))


@pytest.mark.parametrize("function", [fold_by_reexport, fold_by_alias])
def test_without_fusion_refuses_the_fusion_under_any_name(function):
    conv, bn = _layers()
    with pytest.raises(
        dlbook.CheckFailed,
        match=f"FAILED: {function.__name__} called torch.nn.utils.fusion.fuse_conv_bn"
        ".*the fold itself",
    ):
        dlbook.without_fusion(function, conv, bn)
    assert fuse_alias.__module__ == "torch.nn.utils.fusion"  # restored


def slope_by_functional(conv, bn):  # BN(1) - BN(0), measured: the route it closes
    ones = torch.ones(1, 3, 1, 1)
    stats = bn.running_mean, bn.running_var, bn.weight, bn.bias
    return F.batch_norm(ones, *stats) - F.batch_norm(0 * ones, *stats)


def slope_by_module(conv, bn):
    return bn(torch.ones(1, 3, 1, 1)) - bn(torch.zeros(1, 3, 1, 1))


def slope_by_instance_norm(conv, bn):  # with running statistics it is a batch norm
    stats = bn.running_mean, bn.running_var
    return F.instance_norm(torch.ones(1, 3, 1), *stats, use_input_stats=False)


@pytest.mark.parametrize(
    "function", [slope_by_functional, slope_by_module, slope_by_instance_norm]
)
def test_without_fusion_refuses_batch_norm_itself(function):
    conv, bn = _layers()
    function(conv, bn)  # runs outside it
    with pytest.raises(
        dlbook.CheckFailed,
        match=f"FAILED: {function.__name__} called PyTorch's native_batch_norm"
        ".*the fold itself",
    ):
        dlbook.without_fusion(function, conv, bn)
    function(conv, bn)  # and after it: the refusal is gone


def test_without_fusion_lets_a_fold_by_hand_through():
    conv, bn = _layers()
    got = dlbook.without_fusion(fold_by_hand, conv, bn)
    assert torch.allclose(got, fold_by_reexport(conv, bn), atol=1e-6)


def test_the_refusals_work_when_the_module_is_loaded_by_path():
    """As the hidden tests load it: runpy, under a private name, its functions' globals
    kept alive by the functions themselves."""
    import runpy
    from types import SimpleNamespace

    loaded = SimpleNamespace(**runpy.run_path(str(SOURCE)))
    conv, bn = _layers()
    with pytest.raises(AssertionError, match="called torch.nn.utils.fusion"):
        loaded.without_fusion(fold_by_alias, conv, bn)
    with pytest.raises(loaded.CheckFailed, match="called a convolution"):
        loaded.from_the_geometry(by_convolution, torch.ones(3))
    with pytest.raises(loaded.CheckFailed, match="called PyTorch's logsumexp"):
        loaded.by_hand(by_library, torch.ones(3))
    assert torch.allclose(
        loaded.without_fusion(fold_by_hand, conv, bn), fold_by_hand(conv, bn)
    )
    assert fuse_alias.__module__ == "torch.nn.utils.fusion"


def test_a_symptom_says_how_a_number_is_off_not_how_to_compute_it():
    said = [dlbook.symptom(g, 55) for g in (56, 54, 55.0, None, "55", float("nan"))]
    assert said == ["too large", "too small", "not an int"] + ["no size"] * 3
    assert dlbook.symptom([], 3, "count") == "no count"
