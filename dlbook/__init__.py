"""dlbook: the helper module of *Deep-Learning Foundations: Worked Problems*.

What every chapter, and every hidden test, shares: seeds, `check` and `glue`, the
CIFAR-10 loader, the provenance note, and the refusals that run an answer without the
PyTorch function it must not call. It holds no solution. It is one file on purpose:
`make sync` and `make student` write it, unchanged, into a hidden first cell of every
generated notebook (so a notebook runs alone in Colab), and the autograder zip carries
it for the hidden tests, which load it by path under a private name.

The book's appendix shows this file in full.
"""

import ast
import contextlib
import datetime
import functools
import importlib.metadata
import inspect
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

# --- Seeds ----------------------------------------------------------------------------


def seed_everything(seed=0):
    """Seed Python's, NumPy's and PyTorch's generators; returns the seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


# --- Self-checks and glued values -----------------------------------------------------


class CheckFailed(AssertionError):
    """A self-check did not pass; the message says what to look at."""


def check(passed, success, failure):
    """Print a pass message, or stop with a message that names the likely mistake."""
    if not passed:
        raise CheckFailed("FAILED: " + failure)
    print("PASSED: " + success)


def public_cases(question):
    """The public cases of `question`: the functions its file, grading/<stem>/tests/
    <question>.py, marks public (`hidden=False`), without their decorator (so
    neither otter nor the hidden cases are needed). The book reads them from that file;
    `make sync` and `make student` write them into the generated notebooks instead."""
    path, cases = _public_case_nodes(question)
    namespace = {"dlbook": sys.modules[__name__]}
    exec(compile(ast.Module(cases, []), str(path), "exec"), namespace)
    return [namespace[node.name] for node in cases]


def _public_case_nodes(question):
    """The file of `question` and its public cases as ast nodes, decorators removed."""
    root = Path(__file__).resolve().parent.parent
    paths = sorted(root.glob(f"grading/*/tests/{question}.py"))
    paths += sorted(root.glob(f"templates/{question}.py"))  # the template chapter's
    if len(paths) != 1:
        raise LookupError(f"{question}: expected one question file, found {paths}")
    tree = ast.parse(paths[0].read_text(encoding="utf-8"))
    cases = [n for n in tree.body if isinstance(n, ast.FunctionDef) and _is_public(n)]
    if not cases:
        raise LookupError(f"{paths[0]}: no public case (hidden=False)")
    for node in cases:
        node.decorator_list = []
    return paths[0], cases


def _is_public(node):
    """Whether an ast node is a function whose decorator says hidden=False."""
    return any(
        keyword.arg == "hidden" and getattr(keyword.value, "value", True) is False
        for decorator in getattr(node, "decorator_list", [])
        for keyword in getattr(decorator, "keywords", [])
    )


def self_check(question, *cases, namespace=None):
    """Run `question`'s public cases (public_cases, or the `cases` given) on the
    notebook's names: each case's parameters are looked up among the caller's globals,
    the way otter passes them. Prints a line per case, or stops with CheckFailed."""
    namespace = sys._getframe(1).f_globals if namespace is None else namespace
    for case in cases or public_cases(question):
        names = list(inspect.signature(case).parameters)
        missing = [name for name in names if name not in namespace]
        if missing:
            raise CheckFailed(
                f"FAILED ({question}): define {', '.join(missing)} first: "
                "run the answer's cell above"
            )
        try:
            case(*(namespace[name] for name in names))
        except AssertionError as error:  # a refusal's CheckFailed says FAILED already
            message = str(error).removeprefix("FAILED: ")
            raise CheckFailed(f"FAILED ({question}): {message}") from None
        print(f"PASSED ({question}): {(case.__doc__ or case.__name__).strip()}")


def hidden_case(points):
    """otter's hidden test case, a decorator given its points: a failure's message is
    one line that starts with the case's name in words and says what the answer raised
    (never a bare `StopIteration:`); otter still shows the case's failing line."""
    from otter.test_files import test_case

    class Case(test_case):
        def call_func(self, env):
            try:
                super().call_func(env)
            except Exception as error:
                said = str(error) if isinstance(error, AssertionError) else ""
                said = said or f"expected a result, the answer raised {error!r}"
                case = self.test_func.__name__.removeprefix("test_").replace("_", " ")
                said = " ".join(f"{case}: {said}".split())  # one line, as gradebooks
                frames = error.__traceback__.tb_next.tb_next  # the case's, for otter
                raise AssertionError(said).with_traceback(frames) from None

        def __reduce__(self):  # pickled (in otter's results) as otter's own test_case
            return test_case, (self.name, self.points, self.hidden)

    return Case(points=points, hidden=True)


def symptom(got, want, noun="size"):
    """What a self-check says of a wrong number `got` (`want` expected), never how to
    compute it: too large, too small, not an int (a float equal to want), or no size
    (not a number, or NaN)."""
    if not isinstance(got, int | float) or got != got:
        return f"no {noun}"
    if got == want:
        return "not an int"
    return "too large" if got > want else "too small"


def must_raise(error_type, function, *args, what, instead="not return", **kwargs):
    """function(*args, **kwargs) must raise error_type (a class, or a tuple of them):
    returns that error; else an AssertionError says that `what` must raise it, and
    what it did: raised another error (named, with its message), or `instead`."""
    types = error_type if isinstance(error_type, tuple) else (error_type,)
    wanted = " or ".join(t.__name__ for t in types)
    try:
        function(*args, **kwargs)
    except types as error:
        return error
    except Exception as error:  # noqa: BLE001 - the wrong error is the mistake
        raise AssertionError(
            f"{what} must raise {wanted}, got {type(error).__name__}: {error}"
        ) from None
    raise AssertionError(f"{what} must raise {wanted}, {instead}")


def within(seconds, function, *args):
    """function(*args), stopped by a TimeoutError after `seconds` so that a check can
    name an endless loop (with SIGALRM; Windows has none and runs it to the end)."""
    import signal

    def stop(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    if not hasattr(signal, "SIGALRM"):
        return function(*args)
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def relative_gap(got, want, wrong_shape=None):
    """The largest difference between tensors got and want, relative to want's largest
    entry (a float); an AssertionError (`wrong_shape`, else the two shapes) if got does
    not have want's shape."""
    if tuple(got.shape) != tuple(want.shape):
        raise AssertionError(
            wrong_shape or f"shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        )
    return ((got - want).abs().max() / want.abs().max()).item()


try:
    from myst_nb import glue  # stores a value for the book's prose
except ImportError:  # outside the book (Colab, Binder): just show the value

    def glue(name, value, display=True):
        """Outside the book there is no prose to glue into: show the value."""
        if display:
            from IPython.display import display as show

            show(value)


# --- CIFAR-10 -------------------------------------------------------------------------

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
MIRROR_VARIABLE = "CIFAR10_JPEG_MIRROR"


def data_root():
    """Where CIFAR-10 goes: $DL_BOOK_DATA, else data/ next to the notebook."""
    return Path(os.environ.get("DL_BOOK_DATA", "data"))


def load_cifar10(train, sample=None, seed=0):
    """CIFAR-10's train or test split: (uint8 images N×3×32×32, int64 labels N).

    All of it, or `sample` images drawn at random (torch.randperm seeded with `seed`),
    and only those are decoded. The official torchvision download first; only if it
    fails, the offline JPEG mirror in the folder named by $CIFAR10_JPEG_MIRROR
    (train/<class>/*.jpg, test/...), decoded once into data_root() (see `cached`);
    it says which it used."""
    import torchvision

    split = "train" if train else "test"

    def picked(size):
        generator = torch.Generator().manual_seed(seed)
        return (
            None
            if sample is None
            else torch.randperm(size, generator=generator)[:sample]
        )

    root = data_root()
    try:
        dataset = torchvision.datasets.CIFAR10(root, train=train, download=True)
    except Exception as error:  # no network, or a broken download
        download_error = error
    else:
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
        labels, pick = torch.tensor(dataset.targets), picked(len(dataset))
        n = len(labels) if pick is None else len(pick)
        print(
            f"CIFAR-10 {split}: official torchvision download "
            f"({n:,} of its {len(labels):,} images)"
        )
        return (images, labels) if pick is None else (images[pick], labels[pick])
    mirror = os.environ.get(MIRROR_VARIABLE)
    if not mirror:
        raise RuntimeError(
            f"CIFAR-10 could not be downloaded ({download_error}) and "
            f"${MIRROR_VARIABLE} is not set. Connect to the internet, or unpack the "
            "JPEG mirror (train/<class>/*.jpg, test/<class>/*.jpg) and set "
            f"{MIRROR_VARIABLE} to its folder."
        ) from download_error
    folder = Path(mirror) / split
    if not folder.is_dir():
        raise RuntimeError(
            f"${MIRROR_VARIABLE}={mirror} has no '{split}' folder; it must hold "
            "train/<class>/ and test/<class>/ as in the JPEG mirror."
        )
    dataset = torchvision.datasets.ImageFolder(
        folder, loader=torchvision.io.decode_image
    )
    if tuple(dataset.classes) != CIFAR10_CLASSES:
        raise RuntimeError(
            f"{folder} has classes {dataset.classes}; "
            f"expected CIFAR-10's {CIFAR10_CLASSES}."
        )
    pick = picked(len(dataset))
    pick = range(len(dataset)) if pick is None else pick.tolist()

    def decode():  # once per mirror, split and sample: later runs (grading) load it
        images = torch.stack([dataset[i][0] for i in pick])
        return images, torch.tensor([dataset.targets[i] for i in pick])

    files = [
        (Path(f).relative_to(folder).as_posix(), os.path.getsize(f))
        for f, _ in dataset.samples
    ]
    name = f"cifar10_{split}_mirror{'' if sample is None else f'_{sample}_{seed}'}.pt"
    (images, labels), _ = cached(name, decode, [files, sample, seed])
    print(
        f"CIFAR-10 {split}: download failed ({type(download_error).__name__}), so "
        f"using the offline JPEG mirror (${MIRROR_VARIABLE}; {len(labels):,} of its "
        f"{len(dataset):,} images; JPEG shifts pixel values slightly)"
    )
    return images, labels


# --- A cache of computed results (trained nets, the mirror's decoded images) -------

CACHE_DIGESTS = "DL_BOOK_CACHE_SHA256"  # JSON {file name: digest}, set by the grader


def cached(name, make, key, *code):
    """(make()'s result, the seconds it took: 0 if loaded), kept in data_root()/name.
    Loaded only if the SHA-256 of the key (`key`, the source of each function or class
    in `code`, torch's version) and of the file's bytes is the one in ${CACHE_DIGESTS}
    (the grader's) or else in name.sha256; if not (corrupted, other code, seed or
    torch), made again and saved."""
    import hashlib
    import io
    import json

    def source(thing):  # a class by its functions: inspect cannot find a notebook's
        things = vars(thing).values() if isinstance(thing, type) else [thing]
        functions = [f for f in things if inspect.isfunction(f)]
        with contextlib.suppress(OSError, TypeError):  # no source: the bytecode
            return "".join(map(inspect.getsource, functions))
        return repr([f.__code__.co_code for f in functions])

    key = json.dumps([key, torch.__version__, *map(source, code)], default=str)
    path, digests = data_root() / name, json.loads(os.environ.get(CACHE_DIGESTS, "{}"))
    sums = path.with_name(f"{name}.sha256")
    digest = lambda data: hashlib.sha256(key.encode() + data).hexdigest()  # noqa: E731
    if path.is_file():
        data = path.read_bytes()  # checked, then loaded from these very bytes
        want = digests.get(name) or (sums.is_file() and sums.read_text().strip())
        if digest(data) == want:
            print(f"{name}: loaded from the cache (checksum verified)")
            return torch.load(io.BytesIO(data), map_location="cpu"), 0.0
        print(f"{name} fails its checksum (corrupted, or stale): made again, not used")
    start = time.perf_counter()
    result = make()
    torch.save(result, buffer := io.BytesIO())
    seconds, data = time.perf_counter() - start, buffer.getvalue()
    try:  # a half-written file fails its checksum: it is never used
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sums.write_text(digest(data))
    except OSError as error:
        print(f"{name}: not cached ({error})")
    return result, seconds


# --- Provenance -----------------------------------------------------------------------

PROVENANCE_PACKAGES = ("torch", "torchvision", "sympy", "numpy")


def cpu_name():
    """The processor's model name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(prefix):
    """Glue (as `<prefix>_measured_provenance_<key>`) and print what produced a page's
    outputs: when, with which versions, on which processor, how long the kernel ran."""
    import psutil

    kernel = psutil.Process()
    facts = {
        "executed": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        **{name: importlib.metadata.version(name) for name in PROVENANCE_PACKAGES},
        "cpu": f"{cpu_name()} ({psutil.cpu_count()} logical cores)",
        "wall_s": round(time.time() - kernel.create_time(), 1),
        "cpu_s": round(time.process_time(), 1),
    }
    for key, value in facts.items():
        glue(f"{prefix}_measured_provenance_{key}", value, display=False)
    print(
        f"Executed {facts['executed']} with Python {facts['python']}, "
        + ", ".join(f"{n} {facts[n]}" for n in PROVENANCE_PACKAGES)
        + f", on {facts['cpu']}; the kernel ran {facts['wall_s']} s "
        f"({facts['cpu_s']} s of CPU time in the kernel process)."
    )
    return facts


# --- Refusals -------------------------------------------------------------------------
# Where PyTorch computes what a question asks for, the answer is run with that
# computation refused: in the chapter's self-check and in every hidden test that
# computes a value. A refused call raises `Refused`; `refusing` turns it into a
# CheckFailed that names the function and what it called.


class Refused(RuntimeError):
    """The answer called something the question asks it to compute itself."""


def _dispatch_mode():
    """PyTorch's TorchDispatchMode: private API, so say plainly if it has moved."""
    try:
        from torch.utils._python_dispatch import TorchDispatchMode
    except ImportError as error:  # only on a PyTorch the book does not pin
        raise RuntimeError(
            "this PyTorch has no torch.utils._python_dispatch.TorchDispatchMode, "
            "which the checks use to refuse library calls; install the torch version "
            f"that requirements.txt pins ({error})"
        ) from error
    return TorchDispatchMode


# The ATen operators that chapter 1's checks refuse, whatever the Python name that runs
# them (torch.logsumexp, torch.nn.functional, torch.distributions, ...).
LOGSUMEXP_OPERATORS = frozenset(
    {"logsumexp", "logcumsumexp", "logaddexp", "logaddexp2", "_softmax", "_log_softmax"}
)
# autograd.grad, func.grad, Tensor.backward
AUTOGRAD_FUNCTIONS = frozenset({"grad", "backward"})
FUSION_FUNCTIONS = (
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
)


@contextlib.contextmanager
def no_operators(refused_name=LOGSUMEXP_OPERATORS.__contains__):
    """Inside it, an ATen operator whose name satisfies refused_name raises Refused."""
    TorchDispatchMode = _dispatch_mode()

    class RefusingOperators(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.overloadpacket.__name__
            if refused_name(name):
                raise Refused(f"PyTorch's {name.lstrip('_')}")
            return func(*args, **(kwargs or {}))

    with RefusingOperators():
        yield


@contextlib.contextmanager
def no_functions(refused_name, what):
    """Inside it, a torch function whose name satisfies refused_name raises Refused."""
    from torch.overrides import TorchFunctionMode

    class RefusingFunctions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            if refused_name(name):
                raise Refused(f"{what} (torch.{name})")
            return func(*args, **(kwargs or {}))

    with RefusingFunctions():
        yield


def no_autograd():
    """Inside it, autograd (autograd.grad, func.grad, Tensor.backward) is Refused."""
    return no_functions(AUTOGRAD_FUNCTIONS.__contains__, "autograd")


@contextlib.contextmanager
def no_convolutions(namespace=None):
    """Inside it, PyTorch's convolutions (conv1d, conv2d, ...) and NumPy's convolve and
    correlate (under any name; see no_callables) are Refused."""
    import numpy as np

    numpy_ones = {
        f"a convolution (numpy.{f.__name__})": f for f in (np.convolve, np.correlate)
    }
    with no_functions(lambda name: "conv" in name, "a convolution"):
        with no_callables(numpy_ones, namespace):
            yield


def no_fusion(namespace=None):
    """Inside it, PyTorch's BN fusion (torch.nn.utils.fusion's functions) is Refused,
    under every name (torch.nn.utils re-exports two; see no_callables)."""
    import torch.nn.utils.fusion as fusion

    names = {f"torch.nn.utils.fusion.{n}": getattr(fusion, n) for n in FUSION_FUNCTIONS}
    return no_callables(names, namespace)


_HOLDERS = {}  # (callables' ids, number of modules loaded): [(a module's dict, a key)]


def _refuse(what, *_, **__):
    raise Refused(what)


@contextlib.contextmanager
def no_callables(refused, namespace=None):
    """Inside it, each callable of `refused` ({what: callable}) raises Refused(what):
    under its names in every loaded module that holds it and under any name
    `namespace` (an answer's globals) gives it."""
    stand_ins = {id(f): functools.partial(_refuse, what) for what, f in refused.items()}
    key = (frozenset(stand_ins), len(sys.modules))  # scanning the modules takes 20 ms
    if key not in _HOLDERS:
        places = [vars(m) for m in list(sys.modules.values()) if m is not None]
        ids = key[0]
        _HOLDERS[key] = [
            (p, n) for p in places for n, v in list(p.items()) if id(v) in ids
        ]
    holders = _HOLDERS[key] + [(namespace, k) for k in list(namespace or ())]
    patched = []  # (a dict, its key, the original)
    for place, name in holders:
        value = place.get(name)
        if id(value) in stand_ins:  # the originals are alive: their ids are theirs
            patched.append((place, name, value))
            place[name] = stand_ins[id(value)]
    try:
        yield
    finally:
        for place, name, value in patched:
            place[name] = value


def refusing(function, *args, refusals, why):
    """function(*args) inside the context managers that `refusals` (callables) make.

    A refused call becomes a CheckFailed naming the function, what it called, and `why`
    the question refuses it."""
    try:
        with contextlib.ExitStack() as stack:
            for refusal in refusals:
                stack.enter_context(refusal())
            return function(*args)
    except Refused as error:
        raise CheckFailed(
            f"FAILED: {getattr(function, '__name__', 'the answer')} called {error}: "
            + why
        ) from None


# --- Refusals, ready-made: for the self-checks and the hidden tests alike -------------


def by_hand(function, *args, autograd=True):
    """function(*args) with chapter 1's operators refused (LOGSUMEXP_OPERATORS), and
    autograd too if autograd=False: the question asks for the computation itself."""
    return refusing(
        function,
        *args,
        refusals=[no_operators] if autograd else [no_operators, no_autograd],
        why="the question asks for the computation itself "
        "(the grader compares with PyTorch's)",
    )


def without_fusion(function, *args):
    """function(*args) with PyTorch's BN fusion (under any name the function's globals
    give it) and batch norm itself (the ATen operators that F.batch_norm, a BN module's
    forward, ... end in) refused: the question asks for the fold itself."""

    def refusal():
        return no_fusion(getattr(function, "__globals__", None))

    return refusing(
        function,
        *args,
        refusals=[refusal, lambda: no_operators(lambda name: "batch_norm" in name)],
        why="the question asks for the fold itself, not PyTorch's fusion or batch norm",
    )


def from_the_geometry(function, *args):
    """function(*args) with PyTorch's convolutions and NumPy's convolve and correlate
    refused: the answer is worked out from the layers' geometry."""
    return refusing(
        function,
        *args,
        refusals=[lambda: no_convolutions(getattr(function, "__globals__", None))],
        why="work the answer out from the layers' k, s, p and d, without running a "
        "convolution",
    )


# --- Random inputs for the hidden tests -----------------------------------------------


def random_layers(rng, layer, depth, *ranges):
    """1 to `depth` layers, each `layer(*values)` with one value drawn by `rng` (a
    random.Random) from each (low, high) of `ranges`, both ends included."""
    return [
        layer(*(rng.randint(*bounds) for bounds in ranges))
        for _ in range(rng.randint(1, depth))
    ]
