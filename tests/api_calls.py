"""One valid call of every public function, class and method of ``course_utils`` (a registry).

``tests/test_properties_api.py`` replaces one argument of each call by a bad value (a wrong shape,
NaN, a string, None, ...) and asks for a clear error or a sensible result; ``tools/bad_inputs.py``
runs the same replacements exhaustively and writes ``benchmarks/bad_inputs.md``. Both use what is
defined here:

- :data:`REGISTRY`: qualified name (``course_utils.theory.linear.ridge_solution``,
  ``course_utils.models.mlp.MLP.forward``) → a factory that builds a fresh :class:`Call`
  (function, keyword arguments) with small sizes, taken from the chapters and the tests;
- :data:`SKIPPED`: public names deliberately left out, each with its reason;
- :func:`public_api`: every public name the registry must cover (a new function without an
  entry fails ``test_every_public_function_has_a_valid_call``);
- :func:`bad_values`: the bad values for one argument, chosen from the kind of its valid value;
- :func:`run_call` / :func:`classify`: run a call under a time limit and sort the outcome into
  clear error, sensible conversion, cryptic error, silent garbage (NaN/inf) or hang.

Every argument is passed by keyword, so that a bad value can replace it by name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import math
import os
import pkgutil
import random
import re
import signal
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

import course_utils
from course_utils.train import TrainingDiverged

# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Call:
    """A call ``fn(*args, **kwargs)``; only ``kwargs`` are replaced by bad values.

    ``watch``: objects changed in place by the call (a model it trains), checked for NaN/inf
    after it as its result is. ``allow_nan``: the function returns NaN by design for some inputs
    (e.g. "never reached"), so a NaN result is not garbage. ``checks``: a check_* function, whose
    AssertionError (a failed check, with its verdict line) is the expected answer to a wrong value.
    ``aliases``: argument → the name its messages use instead (``per_member(value, name="lr")``
    names the value "lr"). ``nan_passes``: data arguments of functions called at every training
    step (a forward pass, a per-sample loss) through which NaN or inf may pass into the result, by
    design: scanning the data at every step would cost a pass over it (and a device sync on a
    GPU), and the training loops stop with TrainingDiverged when the loss is not finite.
    """

    fn: Callable
    kwargs: dict[str, Any]
    args: tuple = ()
    watch: tuple = ()
    allow_nan: bool = False
    checks: bool = False
    aliases: dict[str, str] = dataclasses.field(default_factory=dict)
    nan_passes: tuple[str, ...] = ()


_STEP = "called at every training step: no scan of the data (the loops stop on a non-finite loss)"
_MEASURE = "measures a run, a diverged one included: NaN weights give a NaN measurement"
#: Registry entries whose listed arguments may carry NaN/inf into the result, by design, with the
#: reason (see ``Call.nan_passes``). Hyperparameters are never in this list: only data and weights.
NAN_PASSES: dict[str, tuple[str, ...]] = {
    # forward passes and per-sample losses (_STEP)
    "course_utils.ensemble.layers.BatchedLinear.forward": ("x",),
    "course_utils.ensemble.layers.BatchedMLP.features": ("x",),
    "course_utils.ensemble.layers.BatchedMLP.forward": ("x",),
    "course_utils.activations.Erf.forward": ("z",),
    "course_utils.activations.Square.forward": ("z",),
    "course_utils.ensemble.training.cross_entropy_per_sample": ("logits",),
    "course_utils.ensemble.training.mse_per_sample": ("output", "target"),
    "course_utils.models.deep_linear.DeepLinearNetwork.forward": ("x",),
    "course_utils.models.deep_linear.end_to_end": ("weights",),
    "course_utils.models.deep_linear.whitened_loss": ("weights", "target_map"),
    "course_utils.models.linear.LinearModel.forward": ("x",),
    "course_utils.models.linear.RandomFeatureModel.features": ("x",),
    "course_utils.models.linear.RandomFeatureModel.forward": ("x",),
    "course_utils.models.linear.half_mse": ("prediction", "target"),
    "course_utils.models.mlp.MLP.forward": ("x",),
    "course_utils.models.silu_net.SiLUNet.forward": ("z",),
    "course_utils.models.silu_net.action": ("params", "z"),
    "course_utils.models.silu_net.silu_net": ("params", "z"),
    "course_utils.theory.implicit_bias.DiagonalNetworks.forward": ("X",),
    # copies of the parameters, NaN and all (_STEP: used inside the action's derivatives)
    "course_utils.models.silu_net.flatten_params": ("params",),
    "course_utils.models.silu_net.unflatten_params": ("vector",),
    # measurements of trained (possibly diverged) weights (_MEASURE)
    "course_utils.diagnostics.relative_weight_change": ("params", "initial"),
    "course_utils.diagnostics.snapshot": ("params",),
    "course_utils.diagnostics.weight_norm": ("params",),
    "course_utils.models.scaled_init.kernel_change_parts": ("W", "V"),
    "course_utils.models.scaled_init.one_hidden_layer_kernel": ("W", "V"),
    # NaN in a table of results means "never reached" (first_step_reaching), kept on purpose
    "course_utils.ensemble.grid.Grid.to_array": ("values",),
    "course_utils.ensemble.grid.LabelledArray": ("values",),
    # init=None is a valid choice: parameters NaN until load_members fills them
    "course_utils.ensemble.layers.BatchedMLP": ("init",),
}

#: qualified name → factory of a fresh valid :class:`Call`
REGISTRY: dict[str, Callable[[], Call]] = {}

#: qualified name → why it has no entry
SKIPPED: dict[str, str] = {
    "course_utils.autodiff.quiet_forward_ad": "a context manager without arguments (nothing to get wrong)",
}

#: modules left out as a whole, with the reason
SKIPPED_MODULES: dict[str, str] = {
    "course_utils.explore": "interactive explorers (sliders, widgets); tested in test_explore.py",
    "course_utils.explorers": "interactive explorers of the chapters; tested in test_explorers_*.py",
    "course_utils.exercises": "exercise checkers: covered by the checkers' own tests (another registry)",
    "course_utils.validate": "the validators themselves: every entry here exercises them",
}


def qualified(target: Any) -> str:
    """``module.qualname`` of a function, class, method, staticmethod or classmethod."""
    target = getattr(target, "__func__", target)
    return f"{target.__module__}.{target.__qualname__}"


def add(target: Any, factory: Callable[[], Any], *, allow_nan: bool = False, checks: bool = False,
        name: str | None = None, nan_passes: tuple[str, ...] = ()) -> None:
    """Register ``factory`` as the valid call of ``target``.

    The factory returns the keyword arguments (a dict; ``target`` is called), a pair
    ``(callable, kwargs)`` (a bound method of a fresh instance), or a whole :class:`Call`.
    """
    key = name or qualified(target)
    if key in REGISTRY:
        raise KeyError(f"{key} registered twice")

    def make() -> Call:
        made = factory()
        if isinstance(made, Call):
            call = made
        elif isinstance(made, dict):
            call = Call(target, made)
        else:
            fn, kwargs, *rest = made
            call = Call(fn, kwargs, watch=tuple(rest[0]) if rest else ())
        call.allow_nan = call.allow_nan or allow_nan
        call.checks = call.checks or checks
        call.nan_passes = tuple(call.nan_passes) + tuple(nan_passes) + NAN_PASSES.get(key, ())
        return call

    REGISTRY[key] = make


def skip(target: Any, reason: str) -> None:
    SKIPPED[target if isinstance(target, str) else qualified(target)] = reason


def public_api() -> list[str]:
    """Every public function, class and input-taking public method of ``course_utils``.

    A module's public names are its ``__all__`` or, without one, the public functions and classes
    defined in it; a name re-exported by a package counts for the module that defines it.
    Exceptions and warnings are left out (nobody calls them with data). A class's methods are
    those defined in its own body (not inherited, even when copied onto the class), public, and taking
    an argument besides ``self``/``cls``.
    """
    def skipped_module(name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in SKIPPED_MODULES) or \
            any(part.startswith("_") for part in name.split("."))

    names: set[str] = set()
    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        if skipped_module(info.name):
            continue
        module = importlib.import_module(info.name)
        public = getattr(module, "__all__", None)
        if public is None:
            public = [n for n, o in vars(module).items() if not n.startswith("_")
                      and (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == info.name]
        for n in public:
            obj = getattr(module, n, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or \
                    not obj.__module__.startswith("course_utils") or skipped_module(obj.__module__):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            names.add(f"{obj.__module__}.{obj.__qualname__}")
            if inspect.isclass(obj):
                for m, raw in vars(obj).items():
                    if m.startswith("_") or not isinstance(raw, (staticmethod, classmethod)) and \
                            not inspect.isfunction(raw):
                        continue
                    if "ǁ" in m:   # mutmut's copies of a method (xǁClassǁname__mutmut_k), in its mutated package
                        continue
                    func = getattr(raw, "__func__", raw)
                    # Inherited but copied onto the class: the first time a torch.optim.Optimizer subclass is
                    # built, torch stores a wrapped copy of the parent's step on it. Not the class's own method.
                    if not getattr(func, "__qualname__", "").startswith(obj.__qualname__ + "."):
                        continue
                    params = list(inspect.signature(func).parameters)
                    if not isinstance(raw, staticmethod):
                        params = params[1:]
                    if params:
                        names.add(f"{obj.__module__}.{obj.__qualname__}.{m}")
    return sorted(names)


# ---------------------------------------------------------------------------------------------
# Small valid inputs
# ---------------------------------------------------------------------------------------------

def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def tgen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def trandn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=tgen(seed), dtype=dtype)


def labels(n: int, classes: int) -> np.ndarray:
    return np.arange(n) % classes


def spectrum(d: int = 6, exponent: float = 1.5) -> np.ndarray:
    return np.arange(1, d + 1, dtype=float) ** -exponent


# ---------------------------------------------------------------------------------------------
# Bad values
# ---------------------------------------------------------------------------------------------

def _a_function(*args, **kwargs):
    """A function passed where a value goes."""
    return 1.0


def _with(arr: np.ndarray, value: float) -> np.ndarray:
    out = np.array(arr, dtype=arr.dtype if arr.dtype.kind == "f" else float, copy=True)
    out.flat[0] = value
    return out


def _array_bad(value: np.ndarray) -> list[tuple[str, Any]]:
    bad: list[tuple[str, Any]] = []
    if value.size and value.dtype.kind in "fc":
        bad += [("NaN entry", _with(value, np.nan)), ("inf entry", _with(value, np.inf))]
    elif value.size and value.dtype.kind in "iu":
        bad += [("negative entry", _with(value, -1).astype(value.dtype)),
                ("NaN entry (float)", _with(value, np.nan)),
                ("fractional entry", _with(value, 0.5))]
    elif value.dtype.kind == "b" and value.size:
        bad += [("float instead of bool", value.astype(float))]
    if value.ndim >= 1:
        bad.append(("empty", value[:0]))
        if value.shape[0] > 1:
            bad.append(("one row fewer", value[:-1]))
        bad.append(("extra axis", value[..., None]))
    if value.ndim >= 2:
        if value.shape[-1] > 1:
            bad.append(("one column fewer", value[..., :-1]))
        bad.append(("flattened", value.reshape(-1)))
    if value.ndim == 0:
        bad.append(("array instead of a number", np.stack([value, value])))
    bad += [("string", "abc"), ("None", None), ("function", _a_function),
            ("list", value.tolist()), ("torch tensor", torch.as_tensor(value))]
    if value.dtype == np.float64:
        bad.append(("float32", value.astype(np.float32)))
    return bad


def _tensor_bad(value: torch.Tensor) -> list[tuple[str, Any]]:
    value = value.detach()
    same = value.dtype if value.is_floating_point() else None      # NaN entries keep a float tensor's dtype
    bad = [(label, (torch.as_tensor(v).to(same) if same is not None and np.asarray(v).dtype.kind == "f"
                    else torch.as_tensor(v)) if isinstance(v, np.ndarray) else v)
           for label, v in _array_bad(value.cpu().numpy()) if label not in ("torch tensor", "float32")]
    bad.append(("NumPy array", value.cpu().numpy()))
    if value.dtype == torch.float64:
        bad.append(("float32", value.float()))
    elif value.dtype == torch.float32:
        bad.append(("float64", value.double()))
    return bad


def _number_bad(value: float | int) -> list[tuple[str, Any]]:
    if isinstance(value, (int, np.integer)):
        return [("zero", 0), ("negative", -1), ("fraction", 2.5), ("NaN", math.nan), ("inf", math.inf),
                ("string", str(value)), ("None", None), ("list", [value, value]), ("function", _a_function)]
    value = float(value)
    return [("NaN", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("zero", 0.0),
            ("negative", -abs(value) if value else -1.0), ("string", repr(value)), ("None", None),
            ("list", [value, value]), ("function", _a_function)]


DEVICE_NAMES = [("cuda (none here)" if not torch.cuda.is_available() else "cuda:99", "cuda" if not
                 torch.cuda.is_available() else "cuda:99"), ("gpu", "gpu"), ("CPU", "CPU")]


def bad_values(name: str, value: Any) -> list[tuple[str, Any]]:
    """The bad values for argument ``name`` whose valid value is ``value``: (label, value) pairs.

    Chosen from the kind of ``value``: numbers get NaN, ±inf, zero, negatives, strings, None,
    lists and functions; arrays and tensors get NaN/inf entries, empty and mismatched shapes,
    extra axes, the other library's type and the other float precision; strings get unknown
    names (devices: "cuda" without a GPU, "gpu", "CPU"); functions get values; generators get
    seeds of the wrong kind. The same list every time (no randomness): the survey is repeatable.
    """
    if isinstance(value, (bool, np.bool_)):
        return [("string", "yes"), ("None", None), ("number 2", 2)]
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _number_bad(value)
    if isinstance(value, torch.Tensor):
        return _tensor_bad(value)
    if isinstance(value, np.ndarray):
        return _array_bad(value)
    if isinstance(value, torch.device) or (value is None or isinstance(value, str)) and "device" in name or \
            isinstance(value, str) and value.lower() in ("cpu", "cuda", "mps"):
        return DEVICE_NAMES + [("unknown name", "tpu"), ("None", None), ("number", 3)]
    if isinstance(value, str):
        return [("unknown name", "no-such-option"), ("empty string", ""), ("None", None), ("number", 3)]
    if isinstance(value, np.random.Generator):
        return [("negative seed", -1), ("string", "seed"), ("fractional seed", 2.5),
                ("torch generator", tgen(0))]
    if isinstance(value, torch.Generator):
        return [("NumPy generator", rng(0)), ("string", "seed"), ("negative seed", -1)]
    if isinstance(value, torch.dtype):
        return [("string", "float64"), ("NumPy dtype", np.float32), ("number", 3)]
    if isinstance(value, torch.nn.Module):
        return [("None", None), ("number", 3.0), ("string", "model"), ("array", np.ones(3))]
    if isinstance(value, dict):
        bad: list[tuple[str, Any]] = [("None", None), ("empty dict", {}), ("string", "params")]
        for k, v in value.items():
            if isinstance(v, torch.Tensor) and v.is_floating_point() and v.numel():
                nan = dict(value)
                nan[k] = v.detach().clone()
                nan[k].view(-1)[0] = math.nan
                bad.append((f"NaN in {k!r}", nan))
                short = dict(value)
                short[k] = v.detach()[..., :-1] if v.shape[-1] > 1 else v.detach()[None]
                bad.append((f"wrong shape of {k!r}", short))
                break
        return bad
    if isinstance(value, (list, tuple, range)):
        items = list(value)
        bad = [("None", None), ("empty", type(value)([]) if not isinstance(value, range) else []),
               ("string", "abc")]
        if items and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in items):
            bad += [("zero entry", [0] + items[1:]), ("negative entry", [-1] + items[1:]),
                    ("NaN entry", [math.nan] + items[1:]), ("string entry", ["a"] + items[1:]),
                    ("one entry fewer", items[:-1])]
        elif items and isinstance(items[0], (torch.Tensor, np.ndarray)):
            first = items[0]
            nan_first = (first.detach().clone() if isinstance(first, torch.Tensor) else np.array(first, float))
            if nan_first.dtype in (torch.float32, torch.float64) or isinstance(nan_first, np.ndarray):
                nan_first.reshape(-1)[0] = math.nan
            bad += [("NaN in first entry", [nan_first] + items[1:]), ("one entry fewer", items[:-1])]
            if first.ndim == 2 and first.shape[0] != first.shape[1]:
                bad.append(("first entry transposed", [first.T] + items[1:]))
        return bad
    if callable(value):
        return [("number", 3.0), ("None", None), ("string", "no-such-function")]
    if value is None:
        return [("string", "abc"), ("NaN", math.nan), ("negative", -1), ("function", _a_function)]
    return [("None", None), ("number", 3.0), ("string", "abc")]


# ---------------------------------------------------------------------------------------------
# Running a call and judging the outcome
# ---------------------------------------------------------------------------------------------

class Hang(BaseException):
    """Raised by the alarm when a call runs past its time limit (a BaseException: no library
    ``except Exception`` swallows it)."""


def _alarm(signum, frame):
    raise Hang()


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise :class:`Hang` in the main thread after ``seconds`` (SIGALRM)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def scratch_directory():
    """Run the calls in a fresh temporary folder, with the data cache and the figure folder there:
    a bad value such as ``cache=""`` or ``directory="abc"`` must not litter the repository or ~/.cache."""
    import tempfile
    old_cwd, old_env = os.getcwd(), dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="bad_inputs_") as tmp:
        os.chdir(tmp)
        os.environ["COURSE_DATA_DIR"] = os.path.join(tmp, "data")
        os.environ["COURSE_FIGURES"] = "off"
        try:
            yield tmp
        finally:
            os.chdir(old_cwd)
            os.environ.clear()
            os.environ.update(old_env)


@contextlib.contextmanager
def preserved_state():
    """Undo what a call may change globally: random states, default dtype, threads, determinism,
    environment, the base seed of course_utils.device, open figures; and silence its output."""
    from course_utils import device as _device

    saved = (torch.get_rng_state(), np.random.get_state(), random.getstate(), torch.get_default_dtype(),
             torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(), dict(os.environ), _device._base_seed,
             torch.backends.cudnn.benchmark)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.set_rng_state(saved[0])
        np.random.set_state(saved[1])
        random.setstate(saved[2])
        torch.set_default_dtype(saved[3])
        if torch.get_num_threads() != saved[4]:
            torch.set_num_threads(saved[4])
        torch.use_deterministic_algorithms(saved[5], warn_only=saved[6])
        os.environ.clear()
        os.environ.update(saved[7])
        _device._base_seed = saved[8]
        torch.backends.cudnn.benchmark = saved[9]
        plt.close("all")


def nonfinite(obj: Any, depth: int = 0, seen: set | None = None) -> str | None:
    """Where ``obj`` (a result: numbers, arrays, tensors, containers, dataclasses, models, the
    package's own result objects) holds NaN or ±inf, or None when it holds none."""
    seen = set() if seen is None else seen
    if depth > 6 or id(obj) in seen:
        return None
    if isinstance(obj, (bool, np.bool_, str, bytes, type(None))):
        return None
    if isinstance(obj, (int, np.integer)):
        return None
    if isinstance(obj, (float, np.floating, complex)):
        return None if np.isfinite(obj) else f"the value {obj}"
    if isinstance(obj, torch.Tensor):
        if (obj.is_floating_point() or obj.is_complex()) and obj.numel() and not bool(torch.isfinite(obj).all()):
            return f"a tensor of shape {tuple(obj.shape)} with NaN/inf"
        return None
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc" and obj.size and not np.isfinite(obj).all():
            return f"an array of shape {obj.shape} with NaN/inf"
        if obj.dtype == object:
            for item in obj.flat:
                where = nonfinite(item, depth + 1, seen)
                if where:
                    return where
        return None
    seen.add(id(obj))
    if isinstance(obj, dict):
        for k, v in obj.items():
            where = nonfinite(v, depth + 1, seen)
            if where:
                return f"[{k!r}]: {where}"
        return None
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            where = nonfinite(v, depth + 1, seen)
            if where:
                return f"[{i}]: {where}"
        return None
    if isinstance(obj, torch.nn.Module):
        for k, v in list(obj.state_dict().items()):
            where = nonfinite(v, depth + 1, seen)
            if where:
                return f"parameter {k}: {where}"
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            where = nonfinite(getattr(obj, f.name), depth + 1, seen)
            if where:
                return f".{f.name}: {where}"
        return None
    if type(obj).__module__.startswith("course_utils") and hasattr(obj, "__dict__"):
        for k, v in vars(obj).items():
            where = nonfinite(v, depth + 1, seen)
            if where:
                return f".{k}: {where}"
    return None


CLEAR = "clear error"
CONVERSION = "sensible conversion"
CRYPTIC = "cryptic error"
GARBAGE = "silent garbage"
HANG = "hang"
NAN_PASSED = "NaN passed on by design"   # a data argument of a per-step function (NAN_PASSES)
CLASSES = (CLEAR, CONVERSION, NAN_PASSED, CRYPTIC, GARBAGE, HANG)
OK_KINDS = (CLEAR, CONVERSION, NAN_PASSED)


@dataclasses.dataclass
class Outcome:
    kind: str      # one of CLASSES
    detail: str    # the exception (type: message) or where the NaN is

    @property
    def ok(self) -> bool:
        return self.kind in OK_KINDS


def names_argument(message: str, name: str) -> bool:
    """Whether ``message`` names the argument ``name`` (as a whole word)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


#: labels of bad values that only change a shape: the error may rightly name the other argument
#: of the mismatch ("y must have 8 rows, as X" when X lost a row)
SHAPE_LABELS = ("one row fewer", "one column fewer", "extra axis", "flattened", "empty", "one entry fewer",
                "first entry transposed", "rows")


def is_shape_change(label: str) -> bool:
    return any(label == s or label.endswith(" " + s) for s in SHAPE_LABELS)


def run_call(call: Call, *, argument: str | None = None, seconds: float = 5.0, shape_change: bool = False) -> Outcome:
    """Run ``call`` under a time limit and classify the outcome for a bad ``argument``.

    Clear error: a ValueError or TypeError (ArgumentError is both) whose message names the
    argument (for the check_* functions also a failed check's AssertionError; for a path, a
    FileNotFoundError that shows it). With ``shape_change`` (the bad value only has another
    shape) a message naming another argument of the call is clear too: a mismatch has two
    sides. Sensible conversion: a result without NaN/inf. Anything else is a cryptic error
    (another exception type, or a message that does not name the argument), silent garbage
    (NaN/inf in the result) or a hang.
    """
    try:
        with preserved_state(), scratch_directory(), time_limit(seconds):
            result = call.fn(*call.args, **call.kwargs)
            where = nonfinite(result) or next(
                (f"(in place) {w}" for w in (nonfinite(o) for o in call.watch) if w), None)
    except Hang:
        return Outcome(HANG, f"no answer after {seconds:g} s")
    except Exception as exc:  # noqa: BLE001 - every exception is judged here
        text = f"{type(exc).__name__}: {exc}"
        text = text if len(text) <= 300 else text[:297] + "..."
        if argument is None:
            return Outcome(CRYPTIC, text)
        if call.checks and isinstance(exc, AssertionError):
            return Outcome(CLEAR, text)
        if isinstance(exc, TrainingDiverged):
            return Outcome(CLEAR, text)       # a value that makes training diverge: it says so, step and lr
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
            return Outcome(CLEAR, text)       # a path that is not a file: the message shows it
        named = [argument] + ([call.aliases[argument]] if argument in call.aliases else [])
        if isinstance(exc, (ValueError, TypeError)) and any(names_argument(str(exc), n) for n in named):
            return Outcome(CLEAR, text)
        others = [k for k in call.kwargs if k != argument and names_argument(str(exc), k)]
        if others and isinstance(exc, (ValueError, TypeError)):
            if shape_change:
                return Outcome(CLEAR, text)
            text = f"(names {', '.join(others)}, not {argument}) {text}"
        return Outcome(CRYPTIC, text)
    if where and not call.allow_nan:
        if argument in call.nan_passes:
            return Outcome(NAN_PASSED, where)
        return Outcome(GARBAGE, where)
    return Outcome(CONVERSION, "finite result")


def _defaults(fn: Callable) -> dict[str, Any]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b) or not isinstance(a, (int, float, str)):
        return False
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def candidates(call: Call, argument: str) -> list[tuple[str, Any]]:
    """The bad values for one argument of ``call``, without the parameter's own default (``url=None``
    is not a bad value when None is what the signature says)."""
    default = _defaults(call.fn).get(argument, inspect.Parameter.empty)
    return [(label, bad) for label, bad in bad_values(argument, call.kwargs[argument])
            if default is inspect.Parameter.empty or not _same(bad, default)]


def perturbations(call: Call) -> list[tuple[str, str, Any]]:
    """Every (argument, label, bad value) for one call, in a fixed order."""
    return [(arg, label, bad) for arg in call.kwargs for label, bad in candidates(call, arg)]


def with_argument(call: Call, argument: str, value: Any) -> Call:
    return dataclasses.replace(call, kwargs={**call.kwargs, argument: value})


def module_of(key: str) -> str:
    """The module part of a registry key (``course_utils.theory.linear``)."""
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        try:
            importlib.import_module(name)
            return name
        except ImportError:
            continue
    return key


# =============================================================================================
# The entries, module by module
# =============================================================================================

# --- checks, device, scale, progress, fits, plotting, train, diagnostics ----------------------

_checks = importlib.import_module("course_utils.checks")
_device = importlib.import_module("course_utils.device")
_diag = importlib.import_module("course_utils.diagnostics")
_fits = importlib.import_module("course_utils.fits")
_plotting = importlib.import_module("course_utils.plotting")
_progress = importlib.import_module("course_utils.progress")
_scale = importlib.import_module("course_utils.scale")
_train = importlib.import_module("course_utils.train")

skip(_checks.CheckResult, "a result record (a float with the verdict) that the check_* functions build")
add(_checks.relative_error, lambda: dict(measured=np.array([1.0, 2.1]), predicted=np.array([1.0, 2.0])))
add(_checks.check_close, lambda: dict(name="close", measured=np.array([1.0, 2.01]), predicted=np.array([1.0, 2.0]),
                                       rtol=0.05, atol=None, mode="norm", verbose=True), checks=True)
add(_checks.check_less, lambda: dict(name="less", value=0.1, bound=1.0, verbose=True), checks=True)
add(_checks.check_true, lambda: dict(name="true", condition=True, detail="ok", verbose=True), checks=True)
add(_checks.check_count, lambda: dict(name="count", count=3, at_least=1, at_most=5, of=5, verbose=True), checks=True)
skip(_checks.checks_mode, "takes no argument (reads COURSE_CHECKS)")

add(_device.pick_device, lambda: dict(prefer="cpu"))
add(_device.seed_everything, lambda: dict(seed=3))
add(_device.set_num_threads, lambda: dict(n=1))
add(_device.setup, lambda: dict(seed=0, device="cpu", num_threads=1, deterministic=True, verbose=False))
add(_device.seed, lambda: dict(k=2))
skip(_device.current_seed, "takes no argument")

skip(_scale.current_scale, "takes no argument (reads COURSE_SCALE)")
add(_scale.scaled, lambda: dict(default=dict(n=3, lr=0.1), paper=dict(n=10), scale="default"))
add(_progress.progress, lambda: dict(iterable=range(3), total=3, desc="x", disable=True))
skip(_progress.progress_style, "takes no argument (reads COURSE_PROGRESS)")

skip(_fits.PowerLawFit, "a result record that fit_power_law builds")
add(_fits.fit_power_law, lambda: dict(x=np.array([1.0, 2, 4, 8]), y=np.array([1.0, 0.5, 0.26, 0.12])))


def _ax():
    import matplotlib.pyplot as plt
    return plt.subplots()[1]


skip(_plotting.use_house_style, "takes no argument")
skip(_plotting.figure_directory, "takes no argument (reads COURSE_FIGURES)")
add(_plotting.panels, lambda: dict(n=3, ncols=2, width=7.2, panel_height=3.1))
add(_plotting.save_open_figures, lambda: dict(directory=None))
add(_plotting.theory_and_experiment, lambda: dict(ax=_ax(), x=np.arange(1.0, 5), theory=np.arange(1.0, 5) ** 2,
                                                   experiment=np.arange(1.0, 5) ** 2 + 0.1, label="a"))
add(_plotting.loglog_fit, lambda: dict(ax=_ax(), x=np.array([1.0, 2, 4, 8]), y=np.array([1.0, 0.5, 0.26, 0.12]),
                                        label="fit"))
add(_plotting.phase_diagram, lambda: dict(ax=_ax(), x=np.array([1.0, 2, 4]), y=np.array([0.1, 1.0]),
                                           values=randn(2, 3), xlabel="x", ylabel="y", colorbar_label="v"))


def _linear_problem(n: int = 16, d: int = 3):
    X = trandn(n, d, dtype=torch.float32)
    return X, X @ torch.ones(d, 1)


def _train_call():
    X, y = _linear_problem()
    model = torch.nn.Linear(3, 1)
    return Call(_train.train, dict(model=model, loss_fn=torch.nn.functional.mse_loss, X=X, y=y, steps=5, lr=0.1,
                                   batch_size=None, record_steps=None, seed=0, progress=False),
                watch=(model,))


def _history():
    h = _train.History()
    h.record(0, loss=1.0)
    h.record(1, loss=0.5)
    return h


add(_train.train, _train_call)
add(_train.History, lambda: dict())
add(_train.History.record, lambda: (_history().record, dict(step=2, loss=0.25)))
add(_train.log_spaced_steps, lambda: dict(steps=100, n=10))
add(_train.trainable_parameters, lambda: dict(name="model", model=torch.nn.Linear(3, 1)))
add(_train.model_dtype, lambda: dict(params=list(torch.nn.Linear(3, 1).double().parameters())))
add(_train.training_data, lambda: Call(_train.training_data, dict(name="X", value=randn(5, 3), dtype=torch.float64,
                                                                  device=torch.device("cpu"), exact=True),
                                       aliases={"value": "X"}))
add(_train.checked_optimizer, lambda: (lambda m: dict(name="optimizer", optimizer=torch.optim.SGD(m.parameters(), lr=0.1),
                                                      params=list(m.parameters())))(torch.nn.Linear(3, 1)))
add(_train.record_step_set, lambda: dict(record_steps=[0, 5, 10], steps=10))
add(_train.metric_functions, lambda: dict(metrics={"w": lambda m: m.weight.norm()}))
add(_train.learning_rate_of, lambda: dict(optimizer=torch.optim.SGD(torch.nn.Linear(3, 1).parameters(), lr=0.1)))


def _mlp_model():
    from course_utils.models.mlp import MLP
    return MLP(3, 8, 2, 1, generator=tgen(0), dtype=torch.float64)


add(_diag.weight_norm, lambda: dict(params=list(_mlp_model().parameters()), batched=False))
add(_diag.relative_weight_change, lambda: dict(params=[torch.ones(3, 2) * 1.1], initial=[torch.ones(3, 2)],
                                                batched=False))
add(_diag.snapshot, lambda: dict(params=list(_mlp_model().parameters())))
add(_diag.feature_kernel, lambda: dict(features=trandn(6, 4), center=False))
add(_diag.effective_dimension, lambda: dict(kernel=_diag.feature_kernel(trandn(6, 4))))
add(_diag.kernel_alignment, lambda: dict(kernel=_diag.feature_kernel(trandn(6, 4)),
                                          targets=torch.tensor([0, 1, 0, 1, 2, 2]), center=True))
add(_diag.relative_kernel_change, lambda: dict(kernel=_diag.feature_kernel(trandn(6, 4, seed=1)),
                                                initial=_diag.feature_kernel(trandn(6, 4))))

# --- data -----------------------------------------------------------------------------------

_arith = importlib.import_module("course_utils.data.arithmetic")
_cls = importlib.import_module("course_utils.data.classification")
_count = importlib.import_module("course_utils.data.counting")
_manifold = importlib.import_module("course_utils.data.manifold")
_parity = importlib.import_module("course_utils.data.sparse_parity")
_synth = importlib.import_module("course_utils.data.synthetic")

skip(_arith.AdditionTask, "a result record that addition_task builds")
add(_arith.addition_table, lambda: dict(p=5))
add(_arith.target_vectors, lambda: dict(p=5, out_dim=4, scale=1.0, seed=0))
add(_arith.addition_task, lambda: dict(p=5, out_dim=4, target_scale=1.0, target_seed=0))
add(_arith.modular_addition, lambda: dict(p=5))
add(_arith.one_hot_pairs, lambda: dict(pairs=_arith.modular_addition(5)[0], p=5, dtype=torch.float64))
add(_arith.n_train_from_fraction, lambda: dict(n_total=25, fraction=0.4))
add(_arith.split_mask, lambda: dict(n_total=25, fraction=0.4, seed=0))
add(_arith.split_masks, lambda: dict(n_total=25, fractions=[0.2, 0.8], seeds=[0, 1]))
add(_arith.answerable, lambda: dict(labels=torch.tensor([0, 1, 1, 2, 2]),
                                     train_mask=torch.tensor([False, True, False, True, False])))

add(_cls.load_digits, lambda: dict(dtype=torch.float64))
add(_cls.gaussian_classes, lambda: dict(n=12, E=3, M=3, separation=2.0, seed=0, dtype=torch.float64))
add(_cls.balanced_indices, lambda: dict(y=torch.tensor([0, 1, 2] * 4), per_class=2, seed=0))
add(_cls.train_val_split, lambda: dict(z=trandn(12, 3), y=torch.tensor([0, 1, 2] * 4), n_train_per_class=2,
                                        n_val_per_class=1, seed=0))
add(_cls.standardize, lambda: dict(z=trandn(8, 3), reference=trandn(10, 3, seed=1), eps=1e-8))
add(_cls.pca_embed, lambda: dict(z=trandn(8, 4), E=2, reference=trandn(10, 4, seed=1), whiten=True))
skip(_cls.cache_dir, "takes no argument (reads COURSE_DATA_DIR)")

_FAKE_MNIST: dict[str, str] = {}


def _fake_mnist_server() -> str:
    """A folder with four tiny Fashion-MNIST-format files (the real download needs a network)."""
    if not _FAKE_MNIST:
        import gzip
        import struct
        import tempfile
        import atexit
        import shutil
        root = tempfile.mkdtemp(prefix="fake_mnist_")
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        images = rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
        lab = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
        for img_name, lab_name in _cls.FASHION_MNIST_FILES.values():
            for name, arr in ((img_name, images), (lab_name, lab)):
                header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
                with gzip.open(os.path.join(root, name), "wb") as f:
                    f.write(header + arr.tobytes())
        _FAKE_MNIST["root"] = root
    return _FAKE_MNIST["root"]


def _fashion_call():
    import pathlib
    root = _fake_mnist_server()
    return dict(split="test", cache="mnist_cache", url=pathlib.Path(root).as_uri(),   # relative: in the scratch folder
                timeout=5.0, dtype=torch.float64)


add(_cls.load_fashion_mnist, _fashion_call)
add(_cls.read_idx, lambda: dict(path=os.path.join(_fake_mnist_server(), _cls.FASHION_MNIST_FILES["test"][1])))

add(_count.zipf_probabilities, lambda: dict(K=10, exponent=1.5))
add(_count.sample_counts, lambda: dict(p=_count.zipf_probabilities(10, 1.5), N=20, draws=3, rng=rng()))
add(_count.sample_labels, lambda: dict(p=_count.zipf_probabilities(10, 1.5), N=20, draws=3, rng=rng()))


def _torus():
    return _manifold.TorusManifold(2, 12, seed=0)


add(_manifold.TorusManifold, lambda: dict(d=2, n_ambient=12, bend=0.3, n_bend=4, n_target_modes=8, max_frequency=1,
                                           seed=0))
add(_manifold.TorusManifold.embed, lambda: (_torus().embed, dict(phi=rng().random((6, 2)))))
add(_manifold.TorusManifold.target, lambda: (_torus().target, dict(phi=rng().random((6, 2)))))
add(_manifold.TorusManifold.sample, lambda: (_torus().sample, dict(n=6, rng=rng())))
add(_manifold.nearest_neighbour_distances, lambda: dict(X=randn(12, 3), k=2))
add(_manifold.intrinsic_dimension_mle, lambda: dict(X=randn(30, 3), k=5))


def _parity_task():
    return _parity.MultitaskSparseParity(n_skills=4, n_bits=8, m=2, alpha=1.0, seed=0)


def _parity_batch():
    x, y, k = _parity_task().sample(10, seed=1)
    return k, x[:, 4:].long()


add(_parity.skill_subsets, lambda: dict(n_skills=4, n_bits=8, m=2, seed=0))
add(_parity.MultitaskSparseParity, lambda: dict(n_skills=4, n_bits=8, m=2, alpha=1.0, seed=0))
add(_parity.MultitaskSparseParity.labels,
    lambda: (_parity_task().labels, dict(zip(("skill", "bits"), _parity_batch()), labels="binary")))
add(_parity.MultitaskSparseParity.encode,
    lambda: (_parity_task().encode, dict(zip(("skill", "bits"), _parity_batch()), dtype=torch.float64)))
add(_parity.MultitaskSparseParity.sample_skills, lambda: (_parity_task().sample_skills, dict(n=10, seed=3)))
add(_parity.MultitaskSparseParity.sample,
    lambda: (_parity_task().sample, dict(n=10, seed=1, labels="binary", dtype=torch.float64)))
add(_parity.MultitaskSparseParity.test_set,
    lambda: (_parity_task().test_set, dict(n_per_skill=3, seed=100, labels="binary", dtype=torch.float64)))
add(_parity.MultitaskSparseParity.relu_network, lambda: (_parity_task().relu_network, dict(skills=2)))

add(_synth.power_law_spectrum, lambda: dict(d=6, exponent=1.5, scale=1.0))
add(_synth.gaussian_features, lambda: dict(n=5, spectrum=spectrum(), rng=rng(), batch=(2,)))
add(_synth.linear_teacher, lambda: dict(X=randn(5, 6), w_star=randn(6, seed=1), noise=0.1, rng=rng()))
add(_synth.random_feature_weights, lambda: dict(d=3, n_features=7, rng=rng()))
add(_synth.random_relu_features, lambda: dict(X=randn(5, 3), weights=randn(7, 3, seed=1)))

# --- models ---------------------------------------------------------------------------------

_deep = importlib.import_module("course_utils.models.deep_linear")
_grok = importlib.import_module("course_utils.models.grokking")
_interp = importlib.import_module("course_utils.models.interpolation")
_mlinear = importlib.import_module("course_utils.models.linear")
_mlp = importlib.import_module("course_utils.models.mlp")
_proj = importlib.import_module("course_utils.models.random_projection")
_scaled = importlib.import_module("course_utils.models.scaled_init")
_silu = importlib.import_module("course_utils.models.silu_net")


def _deep_net(**kw):
    return _deep.DeepLinearNetwork(4, 5, 3, depth=2, generator=tgen(0), **kw)


add(_deep.DeepLinearNetwork, lambda: dict(d_in=4, widths=5, d_out=3, depth=2, init_scale=1.0, balanced=False,
                                           n_members=None, generator=tgen(0), dtype=torch.float64))
add(_deep.DeepLinearNetwork.forward, lambda: (_deep_net().forward, dict(x=trandn(6, 4))))
add(_deep.end_to_end, lambda: dict(weights=[trandn(5, 4), trandn(3, 5, seed=1)]))
add(_deep.balanced_factors, lambda: dict(A=trandn(3, 4), widths=[5], generator=tgen(1), dtype=torch.float64))
add(_deep.whitened_loss, lambda: dict(weights=[trandn(5, 4), trandn(3, 5, seed=1)], target_map=trandn(3, 4, seed=2)))



def _toy_outputs():
    pairs, sums = _arith.addition_table(5)
    targets = _arith.target_vectors(5, 4)
    return pairs, sums, targets


add(_grok.nearest_target_accuracy, lambda: dict(outputs=_toy_outputs()[2][_toy_outputs()[1]] + 0.1 * trandn(15, 4,
                                                 dtype=torch.float32), targets=_toy_outputs()[2],
                                                 labels=_toy_outputs()[1], weight=None))


def _toy_metrics_call():
    pairs, sums, targets = _toy_outputs()
    masks = _arith.split_masks(15, n_train=[8, 8], seeds=[0, 1])
    return dict(pairs=pairs, targets=targets, sums=sums, train_mask=masks, val_mask=~masks, embeddings=True)


add(_grok.toy_metrics, _toy_metrics_call)


def _toy(**kw):
    return _grok.ToyAdditionModel(p=5, embed_dim=1, width=8, out_dim=4, depth=2, seed=0, **kw)


def _btoy():
    return _grok.BatchedToyAdditionModel(2, p=5, embed_dim=1, width=8, out_dim=4, depth=2, seeds=[0, 1])


add(_grok.ToyAdditionModel, lambda: dict(p=5, embed_dim=1, width=8, out_dim=4, depth=2, activation="tanh",
                                          init_scale_embed=1.0, init_scale_decoder=1.0, seed=0))
add(_grok.ToyAdditionModel.forward, lambda: (_toy().forward, dict(pairs=_arith.addition_table(5)[0])))
add(_grok.ToyAdditionModel.parameter_groups,
    lambda: (_toy().parameter_groups, dict(embedding=dict(lr=1e-3), decoder=dict(lr=1e-4, weight_decay=1.0))))
add(_grok.BatchedToyAdditionModel, lambda: dict(n_members=2, p=5, embed_dim=1, width=8, out_dim=4, depth=2,
                                                 activation="tanh", init_scale_embed=[1.0, 2.0],
                                                 init_scale_decoder=1.0, seeds=[0, 1]))
add(_grok.BatchedToyAdditionModel.forward, lambda: (_btoy().forward, dict(pairs=_arith.addition_table(5)[0])))
add(_grok.BatchedToyAdditionModel.parameter_groups,
    lambda: (_btoy().parameter_groups, dict(embedding=dict(lr=1e-3), decoder=dict(lr=[1e-4, 2e-4], weight_decay=1.0))))
add(_grok.toy_optimizer, lambda: dict(model=_btoy(), embed_lr=1e-3, decoder_lr=[1e-4, 2e-4], decoder_wd=1.0,
                                        embed_wd=0.0))
add(_grok.BatchedToyAdditionModel.load_members, lambda: (_btoy().load_members, dict(models=[_toy(), _toy()])))
add(_grok.BatchedToyAdditionModel.from_members, lambda: (_grok.BatchedToyAdditionModel.from_members,
                                                          dict(models=[_toy(), _toy()])))
add(_grok.BatchedToyAdditionModel.member, lambda: (_btoy().member, dict(k=1)))

add(_interp.nearest_neighbour_predict, lambda: dict(X_train=randn(8, 2), y_train=randn(8, seed=1),
                                                     X_test=randn(3, 2, seed=2)))
add(_interp.torus_linear_interpolation, lambda: dict(phi_train=rng().random((10, 1)), y_train=randn(10, seed=1),
                                                      phi_test=rng(2).random((4, 1)), margin=0.2))

add(_mlinear.LinearModel, lambda: dict(n_features=4, theta0=np.ones(4), dtype=torch.float64))
add(_mlinear.LinearModel.forward, lambda: (_mlinear.LinearModel(4).forward, dict(x=trandn(5, 4))))
add(_mlinear.RandomFeatureModel, lambda: dict(weights=randn(7, 3), theta0=None, dtype=torch.float64))
add(_mlinear.RandomFeatureModel.features,
    lambda: (_mlinear.RandomFeatureModel(randn(7, 3)).features, dict(x=trandn(5, 3))))
add(_mlinear.RandomFeatureModel.forward,
    lambda: (_mlinear.RandomFeatureModel(randn(7, 3)).forward, dict(x=trandn(5, 3))))
add(_mlinear.half_mse, lambda: dict(prediction=trandn(5), target=trandn(5, seed=1)))
add(_mlinear.ridge_test_errors, lambda: dict(spectrum=spectrum(), w_star=randn(6), noise=0.1, n=4, rng=rng(),
                                              ridge=0.01, draws=3, seen=None))


def _net(**kw):
    return _mlp.MLP(3, 8, 2, 1, generator=tgen(0), dtype=torch.float64, **kw)


add(_mlp.torch_activation, lambda: dict(name="tanh"))
add(_mlp.MLP, lambda: dict(d_in=3, width=8, depth=2, d_out=1, activation="relu", sigma_w=1.4, sigma_b=0.1,
                            parameterization="ntk", generator=tgen(0), dtype=torch.float64))
add(_mlp.MLP.reset_parameters, lambda: (lambda m: (m.reset_parameters, dict(generator=tgen(1)), (m,)))(_net()))
add(_mlp.MLP.forward, lambda: (_net().forward, dict(x=trandn(5, 3), return_preactivations=False)))
add(_mlp.MLP.scales, lambda: (_net(parameterization="ntk").scales, dict(fan_in=3, last=False)))
add(_mlp.layer_multipliers, lambda: dict(parameterization="mean_field", fan_in=4, sigma_w=1.4, sigma_b=0.1, last=True))
add(_mlp.initial_stds, lambda: dict(parameterization="standard", fan_in=4, sigma_w=1.4, sigma_b=0.1))

_transformer = importlib.import_module("course_utils.models.transformer")
add(_transformer.ModularTransformer, lambda: dict(p=5, d_model=8, n_heads=2, d_mlp=8, n_members=2, seeds=[0, 1],
                                                  dtype=torch.float64))


def _tiny_transformer():
    return _transformer.ModularTransformer(5, d_model=8, n_heads=2, d_mlp=8, n_members=2, dtype=torch.float64)


add(_transformer.ModularTransformer.tokens, lambda: (_tiny_transformer().tokens, dict(pairs=[[1, 2], [3, 4]])))
add(_transformer.ModularTransformer.residual_streams,
    lambda: (_tiny_transformer().residual_streams, dict(pairs=[[1, 2], [3, 4]])))
add(_transformer.ModularTransformer.forward, lambda: (_tiny_transformer().forward, dict(pairs=[[1, 2], [3, 4]])))

_mf = importlib.import_module("course_utils.theory.modular_fourier")


def _clock_logits(p: int = 7):
    a = np.arange(p)
    s = (a[:, None, None] + a[None, :, None] - a[None, None, :]) % p
    return 2 * np.cos(2 * np.pi * s / p) + np.cos(2 * np.pi * 3 * s / p) + 0.1 * randn(p, p, p)


add(_mf.fourier_basis, lambda: dict(p=7))
add(_mf.frequency_power, lambda: dict(W=randn(7, 3)))
add(_mf.frequency_shares, lambda: dict(W=randn(7, 3)))
add(_mf.unit_frequency_shares, lambda: dict(W=randn(7, 3)))
add(_mf.effective_frequencies, lambda: dict(shares=np.array([0.5, 0.3, 0.2])))
add(_mf.random_effective_frequencies, lambda: dict(p=7, n=3))
add(_mf.top_frequencies, lambda: dict(shares=np.array([0.5, 0.3, 0.2]), n=2))
add(_mf.top_share, lambda: dict(shares=np.array([0.5, 0.3, 0.2]), n=2))
add(_mf.key_frequencies, lambda: dict(shares=np.array([0.7, 0.2, 0.1]), factor=2.0))
add(_mf.clock_amplitudes, lambda: dict(logits=_clock_logits(), freqs=np.array([1, 3])))
add(_mf.clock_component, lambda: dict(logits=_clock_logits(), freqs=np.array([1, 3])))
add(_mf.clock_fraction, lambda: dict(logits=_clock_logits(), freqs=np.array([1, 3])))
add(_mf.restricted_logits, lambda: dict(logits=_clock_logits(), freqs=np.array([1, 3])))
add(_mf.excluded_logits, lambda: dict(logits=_clock_logits(), freqs=np.array([1, 3])))
add(_mf.answer_loss, lambda: dict(logits=_clock_logits(), which=np.eye(7, dtype=bool)))
add(_mf.neuron_fraction, lambda: dict(activations=randn(7, 7, 4), freqs=np.array([1, 3])), allow_nan=True)

_act = importlib.import_module("course_utils.activations")
add(_act.Activation, lambda: dict(torch=torch.tanh, module=torch.nn.Tanh, numpy=np.tanh,
                                  numpy_derivative=lambda x: 1 - np.tanh(x) ** 2))
add(_act.Erf, lambda: dict())
add(_act.Erf.forward, lambda: (_act.Erf().forward, dict(z=trandn(4))))
add(_act.activation_name, lambda: dict(name="ReLU", argument="name"))
add(_act.torch_activation, lambda: dict(name="gelu", argument="name"))
add(_act.activation_module, lambda: dict(name="quadratic", argument="name"))
add(_mlp.random_mlp_outputs, lambda: dict(X=trandn(5, 3), n_networks=4, width=8, depth=2, d_out=1,
                                           activation="relu", sigma_w=1.4, sigma_b=0.1, generator=tgen(0),
                                           chunk_size=None, return_preactivations=False, progress=False))

add(_proj.resolution_limited_losses, lambda: dict(spectrum=spectrum(8), sizes=[2, 4], limit="data", draws=2,
                                                   rng=rng()))
add(_proj.variance_limited_losses, lambda: dict(spectrum=spectrum(8), n_fixed=2, sizes=[4, 6], vary="data",
                                                 draws=2, rng=rng()))

skip(_scaled.ScaledInitRun, "a result record that train_scaled_relu_net builds")


def _scaled_weights():
    return trandn(16, 3), trandn(2, 16, seed=1), trandn(6, 3, seed=2)


add(_scaled.lazy_step, lambda: dict(K0=_diag.feature_kernel(trandn(6, 4)), n_outputs=2))
add(_scaled.one_hidden_layer_kernel, lambda: dict(zip(("W", "V", "X"), _scaled_weights()), mask=None))
add(_scaled.kernel_change_parts, lambda: dict(W0=_scaled_weights()[0], V0=_scaled_weights()[1],
                                               W=_scaled_weights()[0] * 1.1, V=_scaled_weights()[1] * 0.9,
                                               X=_scaled_weights()[2]))
add(_scaled.train_scaled_relu_net, lambda: dict(X=trandn(6, 3, dtype=torch.float32),
                                                 Y=trandn(6, 2, seed=1, dtype=torch.float32), width=16, alpha=1.0,
                                                 steps=5, seed=0, lr=None))
add(_scaled.train_scaled_relu_nets, lambda: dict(X=trandn(6, 3, dtype=torch.float32),
                                                  Y=trandn(6, 2, seed=1, dtype=torch.float32), width=16,
                                                  alphas=[1.0, 0.5], steps=5, seeds=[0, 1], lr=None))


def _silu_params():
    return _silu.init_params(3, 4, 2, generator=tgen(0), dtype=torch.float64)


add(_silu.silu_net, lambda: dict(params=_silu_params(), z=trandn(6, 3)))
add(_silu.action, lambda: dict(params=_silu_params(), z=trandn(6, 3), y=torch.tensor([0, 1] * 3)))
add(_silu.init_params, lambda: dict(E=3, H=4, M=2, scale=1.0, generator=tgen(0), dtype=torch.float64, device="cpu"))
add(_silu.zeros_like_params, lambda: dict(params=_silu_params()))
add(_silu.check_params, lambda: dict(params=_silu_params(), name="params"))
add(_silu.flatten_params, lambda: dict(params=_silu_params()))
add(_silu.unflatten_params, lambda: dict(vector=_silu.flatten_params(_silu_params()), like=_silu_params()))
add(_silu.SiLUNet, lambda: dict(E=3, H=4, M=2, scale=1.0, generator=tgen(0), dtype=torch.float64))
add(_silu.SiLUNet.forward, lambda: (_silu.SiLUNet(3, 4, 2, generator=tgen(0), dtype=torch.float64).forward,
                                    dict(z=trandn(6, 3))))

# --- ensemble -------------------------------------------------------------------------------

_grid = importlib.import_module("course_utils.ensemble.grid")
_layers = importlib.import_module("course_utils.ensemble.layers")
_online = importlib.import_module("course_utils.ensemble.online")
_optim = importlib.import_module("course_utils.ensemble.optim")
_etrain = importlib.import_module("course_utils.ensemble.training")


def _a_grid():
    return _grid.Grid(lr=[0.01, 0.1], seed=range(2))


def _labelled():
    g = _grid.Grid(lr=[0.01, 0.1], wd=[0.0, 1.0], seed=range(2))
    return g.to_array(g["lr"] * 10 + g["wd"] + g["seed"], name="x")


add(_grid.Grid, lambda: dict(lr=[0.01, 0.1], seed=range(2)))
add(_grid.Grid.member, lambda: (_a_grid().member, dict(lr=0.1, seed=1)))
add(_grid.Grid.to_array, lambda: (_a_grid().to_array, dict(values=np.arange(4.0), name="x")))
add(_grid.Grid.from_array, lambda: (_a_grid().from_array, dict(array=_a_grid().to_array(np.arange(4.0)))))
add(_grid.LabelledArray, lambda: dict(values=np.arange(4.0).reshape(2, 2), dims=("a", "b"),
                                       coords=dict(a=np.array([1.0, 2.0]), b=np.array([0, 1])), name="x"))
add(_grid.LabelledArray.reduce, lambda: (_labelled().reduce, dict(dim="seed", fn=np.mean)))
add(_grid.LabelledArray.mean, lambda: (_labelled().mean, dict(dim="seed")))
add(_grid.LabelledArray.median, lambda: (_labelled().median, dict(dim="seed")))
add(_grid.LabelledArray.transpose, lambda: Call(_labelled().transpose, {}, args=("seed", "wd", "lr")))
add(_grid.LabelledArray.sel, lambda: (_labelled().sel, dict(seed=0, wd=1.0)))
add(_grid.LabelledArray.for_phase_diagram, lambda: (_labelled().mean("seed").for_phase_diagram, dict(x="lr", y="wd")))


def _bmlp(**kw):
    return _layers.BatchedMLP(2, [3, 5, 1], "tanh", seeds=[0, 1], **kw)


add(_layers.per_member, lambda: Call(_layers.per_member, dict(value=[0.1, 0.2], n_members=2, name="lr",
                                                               dtype=torch.float64, device=None),
                                     aliases={"value": "lr"}))
add(_layers.Square, lambda: dict())
add(_layers.Square.forward, lambda: (_layers.Square().forward, dict(z=trandn(4))))
add(_layers.make_activation, lambda: dict(activation="relu"))
add(_layers.mlp, lambda: dict(sizes=[3, 5, 1], activation="tanh", bias=True, init="uniform", init_scale=1.0, seed=0))
# BatchedLinear's parameters are NaN by design until load_linears fills them (a forgotten load shows at once).
add(_layers.BatchedLinear, lambda: dict(n_members=2, in_features=3, out_features=4, bias=True), allow_nan=True)


def _blinear():
    lin = _layers.BatchedLinear(2, 3, 4)
    lin.load_linears([torch.nn.Linear(3, 4), torch.nn.Linear(3, 4)])
    return lin


add(_layers.BatchedLinear.forward, lambda: (_blinear().forward, dict(x=trandn(5, 3, dtype=torch.float32))))
add(_layers.BatchedLinear.load_linears, lambda: (lambda m: (m.load_linears, dict(
    linears=[torch.nn.Linear(3, 4), torch.nn.Linear(3, 4)]), (m,)))(_layers.BatchedLinear(2, 3, 4)))
add(_layers.BatchedLinear.linear, lambda: (_blinear().linear, dict(k=1)))
add(_layers.BatchedMLP, lambda: dict(n_members=2, sizes=[3, 5, 1], activation="tanh", bias=True, init="uniform",
                                      init_scale=[1.0, 2.0], seeds=[0, 1]))
add(_layers.BatchedMLP.forward, lambda: (_bmlp().forward, dict(x=trandn(5, 3, dtype=torch.float32))))
add(_layers.BatchedMLP.features, lambda: (_bmlp().features, dict(x=trandn(5, 3, dtype=torch.float32))))
add(_layers.BatchedMLP.load_members, lambda: (lambda m: (m.load_members, dict(
    models=[_layers.mlp([3, 5, 1], seed=3), _layers.mlp([3, 5, 1], seed=4)]), (m,)))(_bmlp()))
add(_layers.BatchedMLP.from_members, lambda: (_layers.BatchedMLP.from_members, dict(
    models=[_layers.mlp([3, 5, 1], seed=3), _layers.mlp([3, 5, 1], seed=4)], activation="tanh")))
add(_layers.BatchedMLP.member, lambda: (_bmlp().member, dict(k=1)))


def _online_setup():
    task = _parity.MultitaskSparseParity(n_skills=2, n_bits=6, m=2, alpha=1.0, seed=0)
    net = _online.padded_widths(task.input_dim, [4, 6], 2, [0, 1])
    x, y, _ = task.test_set(4)
    return task, net, x, y


add(_online.padded_widths, lambda: dict(input_dim=8, widths=[4, 6], n_out=2, seeds=[0, 1], activation="relu",
                                         positive_readout=False))
add(_online.padding_leak, lambda: dict(model=_online_setup()[1], widths=[4, 6]))
add(_online.task_sampler, lambda: dict(tasks=[_online_setup()[0]] * 2))


def _train_online_call():
    task, net, x, y = _online_setup()
    return Call(_online.train_online, dict(
        model=net, sample=_online.task_sampler([task, task]), optimizer=_optim.BatchedAdam(net.parameters(), lr=1e-2),
        steps=3, batch=8, record_steps=[3], measure=lambda m: _online.skill_scores(m, x, y, 2), seed=0,
        desc="online"), watch=(net,))


add(_online.train_online, _train_online_call)
add(_online.skill_scores, lambda: dict(zip(("model", "x_test", "y_test"), _online_setup()[1:]), n_skills=2))


def _optim_params():
    return [torch.nn.Parameter(trandn(2, 3, 4, dtype=torch.float32)), torch.nn.Parameter(trandn(2, 1, 4,
                                                                                              dtype=torch.float32))]


def _stepped(opt_cls, **kw):
    params = _optim_params()
    opt = opt_cls(params, **kw)
    for p in params:
        p.grad = torch.ones_like(p)
    return opt.step, dict(closure=None), params


add(_optim.BatchedSGD, lambda: dict(params=_optim_params(), lr=[0.1, 0.2], momentum=0.9, weight_decay=0.0,
                                     nesterov=False))
add(_optim.BatchedSGD.step, lambda: _stepped(_optim.BatchedSGD, lr=0.1, momentum=0.9))
add(_optim.BatchedAdam, lambda: dict(params=_optim_params(), lr=[0.001, 0.01], betas=(0.9, 0.999), eps=1e-8,
                                      weight_decay=0.0))
add(_optim.BatchedAdam.step, lambda: _stepped(_optim.BatchedAdam, lr=0.01))
add(_optim.BatchedAdamW, lambda: dict(params=_optim_params(), lr=[0.001, 0.01], betas=(0.9, 0.999), eps=1e-8,
                                       weight_decay=0.01))


def _ens_history():
    h = _etrain.EnsembleHistory(2)
    h.record(0, loss=torch.tensor([1.0, 2.0]))
    h.record(10, loss=torch.tensor([0.5, 1.5]))
    return h


def _train_ensemble_call():
    X, y = _linear_problem(8, 3)
    model = _bmlp()
    return Call(_etrain.train_ensemble, dict(
        model=model, loss_fn=_etrain.mse_per_sample, X=X, y=y, steps=4,
        optimizer=_optim.BatchedSGD(model.parameters(), lr=0.05), sample_weight=None, per_member_data=False,
        batch_size=4, data_seeds=[0, 1], record_steps=[0, 4], progress=False), watch=(model,))


add(_etrain.EnsembleHistory, lambda: dict(n_members=2))
add(_etrain.EnsembleHistory.record, lambda: (_ens_history().record, dict(step=20, loss=torch.tensor([0.2, 1.0]))))
add(_etrain.EnsembleHistory.member, lambda: (_ens_history().member, dict(k=1)))
add(_etrain.train_ensemble, _train_ensemble_call)
add(_etrain.mse_per_sample, lambda: dict(output=trandn(2, 5, 3), target=trandn(5, 3, seed=1)))
add(_etrain.cross_entropy_per_sample, lambda: dict(logits=trandn(2, 6, 3), labels=torch.tensor([0, 1, 2] * 2)))
add(_etrain.accuracy, lambda: dict(logits=trandn(2, 6, 3), labels=torch.tensor([0, 1, 2] * 2),
                                    weight=torch.tensor([1.0, 1, 1, 0, 0, 1])))
add(_etrain.first_step_reaching, lambda: dict(history=_ens_history(), name="loss", threshold=1.0, above=False,
                                               never=-1), allow_nan=True)   # NaN: never reached (never=nan)
add(_etrain.first_step_crossing, lambda: dict(steps=[0, 10, 20], values=np.array([[2.0, 3], [1, 2], [0.5, 0.9]]),
                                                  threshold=1.0, above=False, never=-1), allow_nan=True)

# --- theory: linear, counting, kernels, NTK ---------------------------------------------------

_tlinear = importlib.import_module("course_utils.theory.linear")
_tcount = importlib.import_module("course_utils.theory.counting")
_kern = importlib.import_module("course_utils.theory.kernels")
_ntke = importlib.import_module("course_utils.theory.ntk_ensemble")
_ntkemp = importlib.import_module("course_utils.theory.ntk_empirical")

add(_tlinear.empirical_eigenbasis, lambda: dict(X=randn(8, 4)))
add(_tlinear.gd_mode_factor, lambda: dict(eigenvalues=spectrum(4), lr=0.5, steps=np.array([0, 1, 10])))
add(_tlinear.gradient_flow_mode_factor, lambda: dict(eigenvalues=spectrum(4), time=np.array([0.0, 1.0, 5.0])))
add(_tlinear.gd_solution, lambda: dict(X=randn(8, 4), y=randn(8, seed=1), lr=0.1, steps=np.array([0, 5, 50]),
                                        theta0=None, rcond=1e-10))
add(_tlinear.population_test_error, lambda: dict(theta=randn(6), w_star=randn(6, seed=1), spectrum=spectrum(),
                                                  noise=0.1))
add(_tlinear.gd_test_error_modes, lambda: dict(spectrum=spectrum(), w_star=randn(6), noise=0.1, n=20, lr=0.5,
                                                steps=np.array([0, 1, 10])))
add(_tlinear.min_norm_solution, lambda: dict(X=randn(4, 6), y=randn(4, seed=1)))
add(_tlinear.ridge_solution, lambda: dict(X=randn(4, 6), y=randn(4, seed=1), ridge=0.1))
add(_tlinear.gd_limit, lambda: dict(X=randn(4, 6), y=randn(4, seed=1), theta0=randn(6, seed=2)))
add(_tlinear.effective_ridge, lambda: dict(spectrum=spectrum(), n=4, ridge=0.01))
skip(_tlinear.RidgeRisk, "a result record that ridge_risk builds")
add(_tlinear.ridge_risk, lambda: dict(spectrum=spectrum(), w_star=randn(6), noise=0.1, n=4, ridge=0.01))
add(_tlinear.min_norm_risk_isotropic, lambda: dict(n=10, p=4, signal_seen=1.0, signal_unseen=0.5, noise=0.1))
add(_tlinear.flat_tail_min_norm_errors, lambda: dict(head_spectrum=np.array([1.0, 0.5]), w_head=np.array([1.0, -1.0]),
                                                      tail_dim=50.0, tail_variance=1.0, noise=0.1, n=6, rng=rng(),
                                                      draws=3))
add(_tlinear.effective_ranks, lambda: dict(spectrum=spectrum(), k=1))
add(_tlinear.relu_features_as_linear_problem, lambda: dict(weights=randn(5, 3), beta=randn(3, seed=1), noise=0.1))

_P10 = _count.zipf_probabilities(10, 1.5)
add(_tcount.add_beta_estimate, lambda: dict(counts=np.array([[3, 1, 0], [2, 2, 0]]), beta=0.5))
add(_tcount.kl_divergence, lambda: dict(p=np.array([0.5, 0.3, 0.2]), q=np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4]])))
add(_tcount.expected_kl, lambda: dict(p=_P10.copy(), N=np.array([1, 10, 100]), beta=0.5))
add(_tcount.expected_kl_asymptotic, lambda: dict(p=_P10.copy(), N=np.array([10, 100]), beta=0.5, order=2))
add(_tcount.second_order_coefficient, lambda: dict(p=_P10.copy(), beta=0.5))
add(_tcount.unseen_probability, lambda: dict(p=_P10.copy(), N=np.array([0.0, 2.5, 100.0])))
add(_tcount.missing_mass, lambda: dict(p=_P10.copy(), N=np.array([1, 10, 100])))
add(_tcount.expected_seen, lambda: dict(p=_P10.copy(), N=np.array([1, 10, 100])))
add(_tcount.top_n_floor, lambda: dict(p=_P10.copy(), n=3))
add(_tcount.top_n_expected_kl, lambda: dict(p=_P10.copy(), N=np.array([10, 100]), n=3, beta=0.5))
add(_tcount.quantize_log_probabilities, lambda: dict(q=_P10.copy(), bits=4, log_min=-10.0))
add(_tcount.quantization_floor, lambda: dict(bits=np.array([2, 4]), log_min=-10.0))

add(_kern.activation, lambda: dict(name="relu"))
add(_kern.activation_derivative, lambda: dict(name="tanh"))
add(_kern.input_kernel, lambda: dict(X1=randn(4, 3), X2=randn(5, 3, seed=1), sigma_w2=1.0, sigma_b2=0.1))
add(_kern.gaussian_expectation, lambda: dict(g=np.tanh, q=np.array([0.5, 1.0]), order=8))
add(_kern.gaussian_pair_expectation, lambda: dict(k11=np.array([1.0, 2.0]), k12=np.array([0.3, 0.5]),
                                                   k22=np.array([1.5, 1.0]), phi="tanh", derivative=False,
                                                   method="auto", order=8))
add(_kern.nngp_kernel, lambda: dict(X1=randn(4, 3), X2=randn(5, 3, seed=1), depth=2, activation="relu",
                                     sigma_w2=2.0, sigma_b2=0.1, method="auto", return_layers=False))
add(_kern.ntk_kernel, lambda: dict(X1=randn(4, 3), X2=randn(5, 3, seed=1), depth=2, activation="relu",
                                    sigma_w2=2.0, sigma_b2=0.1, method="auto", return_nngp=False))
add(_kern.variance_map, lambda: dict(q=np.array([0.5, 1.0]), activation="tanh", sigma_w2=1.5, sigma_b2=0.1, order=8))
add(_kern.variance_fixed_point, lambda: dict(activation="tanh", sigma_w2=1.5, sigma_b2=0.1, q0=1.0, tol=1e-12,
                                              max_iter=10000))
add(_kern.correlation_map, lambda: dict(c=np.array([0.2, 0.9]), q=None, activation="tanh", sigma_w2=1.5,
                                         sigma_b2=0.1, method="auto"))
add(_kern.correlation_fixed_point, lambda: dict(activation="tanh", sigma_w2=1.5, sigma_b2=0.1))
add(_kern.chi1, lambda: dict(activation="tanh", sigma_w2=1.5, sigma_b2=0.1, q=None))
add(_kern.correlation_length, lambda: dict(activation="tanh", sigma_w2=1.5, sigma_b2=0.1))
add(_kern.relu_excess_kurtosis, lambda: dict(width=np.array([8, 32]), depth=2))


def _kernel_problem(n: int = 5, m: int = 3):
    X, Xs = randn(n, 2), randn(m, 2, seed=1)
    K = _kern.nngp_kernel(X, X)
    Kc = _kern.nngp_kernel(Xs, X)
    Kt = _kern.nngp_kernel(Xs, Xs)
    return K, Kc, Kt, randn(n, seed=2)


add(_kern.gp_posterior, lambda: (lambda K, Kc, Kt, y: dict(
    K_train=K, K_cross=Kc, K_test_diag=np.diag(Kt).copy(), y_train=y, noise_var=0.01, jitter=1e-10))(*_kernel_problem()))
add(_kern.kernel_regression_dynamics, lambda: (lambda K, Kc, Kt, y: dict(
    Theta_train=K, Theta_cross=Kc, y_train=y, t=np.array([0.0, 1.0, 10.0]), lr=0.5, f0_train=None, f0_test=None,
    discrete=False))(*_kernel_problem()))

add(_ntke.response_matrix, lambda: (lambda K, Kc, Kt, y: dict(Theta_train=K, Theta_cross=Kc, t=10, lr=0.1,
                                                               discrete=True))(*_kernel_problem()))
add(_ntke.ntk_ensemble_moments, lambda: (lambda K, Kc, Kt, y: dict(
    Theta_train=K, Theta_cross=Kc, K_train=K, K_cross=Kc, K_test=Kt, y=y, t=10, lr=0.1,
    discrete=True))(*_kernel_problem()))
add(_ntke.nngp_posterior, lambda: (lambda K, Kc, Kt, y: dict(K_train=K, K_cross=Kc, K_test=Kt, y=y, noise_var=0.01,
                                                              jitter=1e-10))(*_kernel_problem()))
add(_ntke.BatchedNTKMLP, lambda: dict(n_members=2, d_in=3, width=8, depth=2, d_out=1, activation="erf", sigma_w=1.4,
                                       sigma_b=0.1, seeds=[0, 1], dtype=torch.float64))
add(_ntke.BatchedNTKMLP.forward, lambda: (_ntke.BatchedNTKMLP(2, 3, 8, 2, seeds=[0, 1], dtype=torch.float64).forward,
                                          dict(x=trandn(5, 3))))
add(_ntke.ensemble_discrepancy, lambda: dict(f=randn(20, 3), g=randn(20, 3, seed=1) * 0.1 + randn(20, 3),
                                              cov_inf=np.eye(3), n_boot=10, seed=0))
add(_ntke.excess_kurtosis, lambda: dict(samples=randn(50, 3), axis=0))


def _relu_nets(width: int = 16):
    return [_mlp.MLP(3, width, 1, activation="relu", sigma_w=1.4, sigma_b=0.3, parameterization="ntk",
                     generator=tgen(s), dtype=torch.float32) for s in (0, 1)]


add(_ntkemp.jacobian, lambda: dict(model=_net(), X=trandn(5, 3), chunk_size=None))
add(_ntkemp.empirical_ntk, lambda: dict(model=_net(), X1=trandn(5, 3), X2=trandn(4, 3, seed=1), chunk_size=None))
add(_ntkemp.LinearizedModel, lambda: dict(model=_net()))
add(_ntkemp.LinearizedModel.forward, lambda: (_ntkemp.LinearizedModel(_net()).forward, dict(x=trandn(5, 3))))
add(_ntkemp.one_hidden_layer_ntk, lambda: dict(p=_ntkemp._stacked_one_hidden_layer(_relu_nets()),
                                                X=trandn(5, 3, dtype=torch.float32), sigma_w=1.4, sigma_b=0.3))
add(_ntkemp.catapult_ensemble, lambda: dict(models=_relu_nets(), ratios=[0.5], steps=5,
                                             X=trandn(6, 3, dtype=torch.float32),
                                             y=torch.sin(trandn(6, 3, dtype=torch.float32)[:, 0]), blow_up=1e6))

# --- theory: action, compute-optimal, emergence, features -----------------------------------

_action = importlib.import_module("course_utils.theory.action")
_co = importlib.import_module("course_utils.theory.compute_optimal")
_emerg = importlib.import_module("course_utils.theory.emergence")
_feat = importlib.import_module("course_utils.theory.features")


def _action_data(n: int = 12, seed: int = 0):
    z, y = _cls.gaussian_classes(n, 3, 2, seed=seed, dtype=torch.float64)
    return z, y


def _J():
    z, y = _action_data()
    return _action.correlations(z, y, 2, max_order=2)


add(_action.silu_taylor_coefficients, lambda: dict(n_max=5))
add(_action.silu_derivatives_at_zero, lambda: dict(n_max=5))
add(_action.class_weights, lambda: dict(y=torch.tensor([0, 1, 1, 0]), M=2, dtype=torch.float64))
add(_action.correlations, lambda: dict(zip(("z", "y"), _action_data()), M=2, max_order=2))
add(_action.uw_tensor, lambda: dict(params=_silu_params(), order=2))
add(_action.s0, lambda: dict(M=3))
add(_action.s2_terms, lambda: dict(params=_silu_params(), J=_J()))
add(_action.s3_terms, lambda: dict(params=_silu_params(), J=_J()))
add(_action.s2, lambda: dict(params=_silu_params(), J=_J()))
add(_action.s3, lambda: dict(params=_silu_params(), J=_J()))
add(_action.general_term, lambda: dict(params=_silu_params(), **dict(zip(("z", "y"), _action_data())), M=2, n=3,
                                        include_bias=True, coefficient="derived"))
add(_action.s4, lambda: dict(params=_silu_params(), **dict(zip(("z", "y"), _action_data())), M=2))
add(_action.s5, lambda: dict(params=_silu_params(), **dict(zip(("z", "y"), _action_data())), M=2))
add(_action.closed_form_taylor_terms, lambda: dict(params=_silu_params(), **dict(zip(("z", "y"), _action_data())),
                                                    M=2))
add(_action.source_coefficient, lambda: dict(n=3))
add(_action.derived_coefficient, lambda: dict(n=3))


def _action_fn():
    z, y = _action_data()
    return lambda p: _silu.action(p, z, y)


add(_action.taylor_coefficients_along_ray, lambda: dict(fn=_action_fn(), params=_silu_params(), order=3))
add(_action.hessian_at_zero, lambda: dict(fn=_action_fn(), like=_silu_params()))
add(_action.hessian_closed_form, lambda: dict(J=_J(), H=4))
add(_action.gradient_alignment, lambda: dict(params=_silu_params(), train=_action_data(), val=_action_data(seed=1)))
add(_action.first_sign_change, lambda: dict(steps=np.array([0, 1, 2, 3]), values=np.array([1.0, 0.5, -0.5, -1.0])),
    allow_nan=True)   # NaN: no sign change
add(_action.train_tracking_alignment, lambda: dict(params=_silu_params(), train=_action_data(),
                                                    val=_action_data(seed=1), steps=3, lr=0.1, record_every=1,
                                                    progress=False))
add(_action.quadratic_action_descent, lambda: dict(params=_silu_params(), J=_J(), lr=0.1, steps=3))
add(_action.top_singular_share, lambda: dict(uw=_action.uw_tensor(_silu_params(), 1), J1=_J()[1]))

_TRUE = np.array([0.02, 8.0, 0.8, 40.0, 0.55])


def _co_grid():
    N = np.geomspace(50, 5000, 4)
    D = np.geomspace(1e3, 1e6, 5)
    NN, DD = np.meshgrid(N, D)
    return NN, DD, _co.joint_loss(NN, DD, _TRUE) * np.exp(0.01 * rng().standard_normal(NN.shape))


add(_co.joint_loss, lambda: dict(N=np.array([100.0, 3000.0]), D=np.array([1e4, 2e5]), params=_TRUE.copy()))
add(_co.joint_loss_gradient, lambda: dict(N=np.array([100.0, 3000.0]), D=np.array([1e4, 2e5]), params=_TRUE.copy()))
skip(_co.JointFit, "a result record that fit_joint_scaling_law builds")
add(_co.fit_joint_scaling_law, lambda: dict(zip(("N", "D", "L"), _co_grid()), sigma=np.full(20, 0.01), loss="linear"))
add(_co.fit_offset_power_law, lambda: dict(x=np.geomspace(10, 1e4, 8), y=0.1 + 3 * np.geomspace(10, 1e4, 8) ** -0.5,
                                            sigma=None))


def _bootstrap_call():
    NN, DD, L = _co_grid()
    runs = L.reshape(1, -1) * np.exp(0.01 * rng(1).standard_normal((3, L.size)))
    return dict(N=NN.reshape(-1), D=DD.reshape(-1), L_runs=runs, n_boot=2, rng=rng(), loss="linear")


add(_co.bootstrap_joint_fit, _bootstrap_call)
skip(_co.Allocation, "a result record that compute_optimal_allocation builds")
add(_co.Allocation.band, lambda: (_co.compute_optimal_allocation(np.geomspace(1e7, 1e10, 3), _TRUE).band, dict(k=1.0)))
add(_co.compute_optimal_allocation, lambda: dict(C=np.geomspace(1e7, 1e10, 3), fit=_TRUE.copy(), flops_per=6.0,
                                                  cov=None))
add(_co.allocation_exponents, lambda: dict(alpha=0.8, beta=0.55))


def _iso():
    N = np.geomspace(30, 30_000, 6)
    D = np.geomspace(1e2, 1e8, 30)
    return N, D, _co.joint_loss(N[None, :], D[:, None], _TRUE)


add(_co.iso_flop_profiles, lambda: dict(zip(("N", "D", "L"), _iso()), C_levels=np.geomspace(1e7, 1e9, 3),
                                         flops_per=6.0), allow_nan=True)   # NaN: outside the recorded D
add(_co.measured_frontier, lambda: (lambda N, D, L: dict(N=N, profiles=_co.iso_flop_profiles(
    N, D, L, np.geomspace(1e7, 1e9, 3))))(*_iso()),
    allow_nan=True)   # NaN in profiles: a size not measured, carried through (documented)


def _teacher():
    return _co.QuadraticTeacher(4, 1.0, 0.1, tgen(0))


def _one_pass_call():
    teacher = _teacher()
    model = _online.padded_widths(4, [2, 3], 1, [0, 1], "quadratic", positive_readout=True)
    return Call(_co.train_one_pass, dict(
        model=model, sample=teacher.sample, optimizer=_optim.BatchedAdam(model.parameters(), lr=1e-2), batch=4,
        record_steps=[1, 3], evaluate=lambda: teacher.excess_loss(model).detach().numpy(), generator=tgen(1),
        lr_schedule=None, chunk_steps=128, desc="one pass"), watch=(model,))


add(_co.QuadraticTeacher, lambda: dict(d=4, gamma=1.0, sigma=0.1, generator=tgen(0), dtype=torch.float32))
add(_co.QuadraticTeacher.target, lambda: (_teacher().target, dict(x=trandn(5, 4, dtype=torch.float32))))
add(_co.QuadraticTeacher.sample, lambda: (_teacher().sample, dict(shape=(2, 5), generator=tgen(1))))
add(_co.QuadraticTeacher.excess_loss, lambda: (_teacher().excess_loss, dict(
    model=_online.padded_widths(4, [2, 3], 1, [0, 1], "quadratic", positive_readout=True))))
add(_co.QuadraticTeacher.floor, lambda: (_teacher().floor, dict(width=np.array([1, 2, 3]))))
add(_co.train_one_pass, _one_pass_call)

_PS = _count.zipf_probabilities(4, 1.5)
_T = np.linspace(0, 10, 11)
add(_emerg.crossing_time, lambda: dict(t=_T.copy(), values=np.stack([_T / 10, _T / 5], 1), level=0.5),
    allow_nan=True)   # NaN: never reached
add(_emerg.predicted_times, lambda: dict(t_ref=np.array([10.0, 20.0]), p=_PS.copy(), ref=0, exponent=1.0),
    allow_nan=True)   # NaN in t_ref: a skill that never emerged, carried through (documented)
add(_emerg.shifted_total, lambda: dict(t=np.array([1.0, 5.0]), t_curve=_T.copy(), curve_ref=np.exp(-_T), p=_PS.copy(),
                                        ref=0))
add(_emerg.data_law, lambda: dict(D=np.array([10.0, 100.0]), p=_PS.copy(), D_c=5.0))
add(_emerg.fit_data_threshold, lambda: dict(d=np.array([1.0, 2, 4, 8, 16]), R=np.array([0.2, 0.4, 0.8, 1.0, 1.0])))
add(_emerg.unit_law, lambda: dict(N=np.array([5.0, 20.0]), n_skills=4, N_c=4.0))
add(_emerg.fit_units_per_skill, lambda: dict(N=np.array([2.0, 4, 6, 8, 10]), R=np.array([0.5, 1, 1, 1, 1]), k=1))
add(_emerg.skills_held, lambda: dict(N=np.array([5.0, 20.0]), n_skills=4, N_c=4.0))
add(_emerg.fit_logit_line, lambda: dict(t=np.array([1.0, 2, 3, 4]), a=np.array([0.05, 0.1, 0.2, 0.35])))
add(_emerg.logit_line_time, lambda: dict(t_h=5.0, rate=0.7, a_target=0.9))
add(_emerg.exact_match, lambda: dict(acc=np.array([0.5, 0.9]), n_queries=3))


def _ef():
    return _feat.eigenfeatures(randn(10, 4))


add(_feat.EigenFeatures, lambda: dict(mean=np.zeros(3), phi=randn(5, 3), eigenvalues=np.array([2.0, 1.0]),
                                       train_values=randn(5, 2)))
add(_feat.EigenFeatures.evaluate, lambda: (_ef().evaluate, dict(features=randn(6, 4, seed=1))))
add(_feat.eigenfeatures, lambda: dict(features=randn(10, 4), rtol=1e-9))
add(_feat.intensity, lambda: dict(ef=_ef()))
add(_feat.quality, lambda: dict(values=randn(9, 3), y=labels(9, 3)))
add(_feat.utilisation, lambda: dict(ef=_ef(), readout=randn(3, 4, seed=1)))
add(_feat.label_projector, lambda: dict(y=labels(9, 3), n_classes=3))
add(_feat.alignment_from_scatter, lambda: dict(H=randn(9, 4), y=labels(9, 3)))
add(_feat.nc1_bound, lambda: dict(H=randn(9, 4) + 3 * np.eye(4)[labels(9, 3)], y=labels(9, 3), rtol=1e-10))
add(_feat.collapsed_alignment, lambda: dict(y_true=labels(9, 3), y_pred=np.array([0, 1, 2, 0, 1, 2, 0, 2, 2]),
                                             n_classes=3, gram=None))
add(_feat.uniform_error_kappa, lambda: dict(error=np.array([0.1, 0.3]), n_classes=3))
add(_feat.threshold_error, lambda: dict(kappa=0.2, n_classes=3))

# --- theory: grokking, implicit bias, neural collapse ---------------------------------------

_tgrok = importlib.import_module("course_utils.theory.grokking")
_ib = importlib.import_module("course_utils.theory.implicit_bias")
_nc = importlib.import_module("course_utils.theory.neural_collapse")

_P = 6


def _train_pairs():
    pairs = _tgrok.unordered_pairs(_P)
    return pairs[np.r_[0:len(pairs):2]]


def _quads():
    return _tgrok.training_parallelograms(_train_pairs(), _P)


def _E(d: int = 1):
    return np.arange(_P, dtype=float)[:, None] * np.ones(d) + 0.1 * randn(_P, d)


add(_tgrok.unordered_pairs, lambda: dict(p=_P))
add(_tgrok.parallelograms, lambda: dict(p=_P))
add(_tgrok.training_parallelograms, lambda: dict(train_pairs=_train_pairs(), p=_P))
add(_tgrok.constraint_matrix, lambda: dict(quads=_quads(), p=_P))
add(_tgrok.permissible_parallelograms, lambda: dict(train_pairs=_train_pairs(), p=_P, tol=1e-9))
add(_tgrok.normalise_embeddings, lambda: dict(E=_E(2)))
add(_tgrok.parallelogram_defects, lambda: dict(E=_E(2), quads=_quads()))
add(_tgrok.rqi, lambda: dict(E=_E(2), p=_P, delta=0.05))
add(_tgrok.predicted_accuracy, lambda: dict(E=_E(2), train_pairs=_train_pairs(), eval_pairs=_tgrok.unordered_pairs(_P),
                                             delta=0.05))
add(_tgrok.effective_loss, lambda: dict(E=_E(2), quads=_quads()))
add(_tgrok.effective_loss_gradient, lambda: dict(E=_E(2), quads=_quads()))
add(_tgrok.effective_hessian, lambda: dict(quads=_quads(), p=_P))
add(_tgrok.hessian_spectrum, lambda: dict(quads=_quads(), p=_P))
add(_tgrok.null_space_dimension, lambda: dict(quads=_quads(), p=_P, tol=1e-8))
add(_tgrok.unique_linear_structure, lambda: dict(train_pairs=_train_pairs(), p=_P))
add(_tgrok.grokking_rate, lambda: dict(quads=_quads(), p=_P))
add(_tgrok.linear_flow, lambda: dict(E0=_E(2), quads=_quads(), times=np.array([0.0, 1.0, 5.0]), Z0=None))
add(_tgrok.effective_gradient_flow, lambda: dict(E0=_E(2), quads=_quads(), times=np.array([0.0, 0.1, 0.2]),
                                                  max_dt=0.01))
add(_tgrok.linearity_defect, lambda: dict(E=_E(1)[:, 0]))
add(_tgrok.spacing_deviation, lambda: dict(E=_E(1)[:, 0]), allow_nan=True)   # NaN: constant E, no spacing
add(_tgrok.order_inversions, lambda: dict(E=np.stack([_E(1)[:, 0], _E(1)[::-1, 0]])))
add(_tgrok.order_changes, lambda: dict(E=np.stack([_E(1)[:, 0], _E(1)[:, 0] * 2, _E(1)[::-1, 0]]), start=0,
                                        symbol_pairs=None))
add(_tgrok.tied_symbol_pairs, lambda: dict(train_pairs=_train_pairs(), p=_P))
add(_tgrok.probability_unique, lambda: dict(p=_P, n_train=[5, 15], n_splits=5, seed=0))
add(_tgrok.critical_fraction, lambda: dict(fractions=np.array([0.1, 0.3, 0.5]), probabilities=np.array([0.0, 0.4, 0.9]),
                                            level=0.5), allow_nan=True)   # NaN: never reaches the level
add(_tgrok.classify_phase, lambda: dict(train_step=np.array([100.0, 100, 100]), val_step=np.array([200.0, 1000, 6000]),
                                         budget=5000, delay_ratio=1.0, min_delay=None))
add(_tgrok.classify_outcome, lambda: dict(generalised=np.array([True, False, False]),
                                          train_acc=np.array([1.0, 0.95, 0.5]), rqi=np.array([1.0, 0.2, 0.1]),
                                          threshold=0.9))

_BETA = np.array([1.0, -0.5, 0.0, 0.2])
add(_ib.q, lambda: dict(z=np.array([-2.0, 0.0, 0.5])))
add(_ib.q_prime, lambda: dict(z=np.array([-2.0, 0.0, 0.5])))
add(_ib.potential, lambda: dict(beta=_BETA.copy(), alpha=0.5))
add(_ib.potential_large_alpha, lambda: dict(beta=_BETA.copy(), alpha=2.0))
add(_ib.potential_small_alpha, lambda: dict(beta=_BETA.copy(), alpha=0.1))


def _sparse():
    X, beta, y = _ib.sparse_regression(4, 8, 1, draws=1, seed=0)
    return X[0], y[0]


add(_ib.interpolator, lambda: dict(X=_sparse()[0], y=_sparse()[1], alpha=0.5, tol=1e-12, max_iter=500,
                                    return_dual=False))
add(_ib.dual_to_beta, lambda: dict(z=np.array([0.1, -1.0, 2.0]), alpha=0.5))
add(_ib.min_l2_interpolator, lambda: dict(X=_sparse()[0], y=_sparse()[1]))
add(_ib.min_l1_interpolator, lambda: dict(X=_sparse()[0], y=_sparse()[1]))
add(_ib.sparse_regression, lambda: dict(n=4, d=8, k=1, draws=2, seed=0))
add(_ib.relative_weight_change, lambda: dict(beta=_BETA.copy(), alpha=0.5))
add(_ib.tangent_kernel, lambda: dict(X=randn(3, 4), u=np.ones(4), v=np.full(4, 0.5)))
add(_ib.relative_kernel_change, lambda: dict(X=randn(3, 4), beta=_BETA.copy(), alpha=0.5))
add(_ib.weight_to_target_ratio, lambda: dict(beta=np.array([1.0, -0.5, 0.2]), alpha=0.5))
add(_ib.statistical_dimension_l1, lambda: dict(d=20, k=2))
add(_ib.DiagonalNetworks, lambda: dict(alpha=[0.5, 2.0], d=3, dtype=torch.float64))
add(_ib.DiagonalNetworks.forward, lambda: (_ib.DiagonalNetworks([0.5, 2.0], 3).forward, dict(X=trandn(2, 5, 3))),
    nan_passes=("X",))


def _diag_data(K: int = 2):
    X, y = _sparse()
    return np.repeat(X[None], K, 0), np.repeat(y[None], K, 0)


add(_ib.learning_rates, lambda: dict(X=_diag_data()[0], y=_diag_data()[1], alpha=np.array([0.1, 1.0]), beta_max=3.0,
                                      curvature_fraction=0.25, growth_step=0.01, n_samples=None))
add(_ib.curvature_learning_rates, lambda: dict(X=_diag_data()[0], y=_diag_data()[1], u=np.ones((2, 8)),
                                                v=np.full((2, 8), 0.5), fraction=0.5, n_samples=None))
add(_ib.train_diagonal_networks, lambda: dict(X=_diag_data()[0], y=_diag_data()[1], alpha=np.array([0.1, 1.0]),
                                               escape_steps=3, converge_steps=3, beta_max=3.0, growth_step=0.01,
                                               curvature_fraction=0.5, sample_weight=None, progress=False,
                                               device="cpu"))


def _nc_data(n: int = 12, p: int = 4, C: int = 3):
    y = labels(n, C)
    H = 3 * np.eye(p)[y] + 0.3 * randn(n, p)
    return H, y


def _nc_W():
    return np.eye(4)[:3] + 0.1 * randn(3, 4, seed=1)


add(_nc.class_means, lambda: dict(zip(("H", "y"), _nc_data())))
add(_nc.scatter_matrices, lambda: dict(zip(("H", "y"), _nc_data())))
add(_nc.nc1, lambda: dict(zip(("H", "y"), _nc_data()), rcond=1e-10))
add(_nc.within_class_ratio, lambda: dict(zip(("H", "y"), _nc_data())))
add(_nc.etf_gram, lambda: dict(C=3))
add(_nc.centred_mean_gram, lambda: dict(zip(("H", "y"), _nc_data())))
add(_nc.nc2, lambda: dict(zip(("H", "y"), _nc_data())))
add(_nc.equinorm, lambda: dict(zip(("H", "y"), _nc_data())))
add(_nc.nc3, lambda: dict(W=_nc_W(), **dict(zip(("H", "y"), _nc_data())), center_classifier=False))
add(_nc.nc4, lambda: dict(scores=_nc_data()[0] @ _nc_W().T, **dict(zip(("H", "y"), _nc_data()))))
add(_nc.collapse_measures, lambda: dict(zip(("H", "y"), _nc_data()), W=_nc_W(), scores=_nc_data()[0] @ _nc_W().T,
                                         center_classifier=False))


def _dln_weights():
    return [randn(5, 4), randn(3, 5, seed=1)]


add(_nc.dln_gradients, lambda: dict(weights=_dln_weights(), X=randn(8, 4, seed=2), Y=randn(8, 3, seed=3)))
add(_nc.imbalance_step, lambda: dict(grads=_nc.dln_gradients(_dln_weights(), randn(8, 4, seed=2),
                                                             randn(8, 3, seed=3))[0], lr=0.1))
add(_nc.readout_projector, lambda: dict(W_L=randn(3, 5)))


def _train_deep_linear_call():
    X = torch.tensor(randn(12, 6))
    y = labels(12, 3)
    Y = torch.nn.functional.one_hot(torch.tensor(y), 3).double()
    net = _deep.DeepLinearNetwork(6, 5, 3, 2, init_scale=[0.1, 0.2], n_members=2, generator=tgen(0))
    return Call(_nc.train_deep_linear, dict(model=net, X=X, Y=Y, lr=[0.1, 0.05], steps=3, labels=y, record=(0, 3)),
                watch=(net,))


add(_nc.train_deep_linear, _train_deep_linear_call)
add(_nc.invisible_weight_norm2, lambda: dict(W_below=randn(5, 4), W_L=randn(3, 5, seed=1)))
add(_nc.least_squares_map, lambda: dict(X=randn(8, 4), Y=randn(8, 3, seed=1), rcond=1e-12))
add(_nc.psd_power, lambda: dict(S=np.cov(randn(4, 10)), power=-0.5, rcond=1e-12))
add(_nc.balanced_geometry, lambda: dict(E=randn(3, 4), X=randn(8, 4, seed=1), depth=2))
add(_nc.readout_split, lambda: dict(zip(("H", "y"), _nc_data()), W=_nc_W()))
add(_nc.unit_imbalance, lambda: dict(W_in=randn(5, 4), b_in=randn(5, seed=1), W_out=randn(3, 5, seed=2)))
add(_nc.nc3_of_a_fitted_readout, lambda: dict(W=_nc_W(), invisible_means=0.1))
add(_nc.readout_geometry, lambda: dict(W=_nc_W()))

# --- theory: layerwise, lazy/rich, quanta, quanta in networks, regimes, scaling, signal propagation

_lw = importlib.import_module("course_utils.theory.layerwise")
_lr = importlib.import_module("course_utils.theory.lazy_rich")
_quanta = importlib.import_module("course_utils.theory.quanta")
_qn = importlib.import_module("course_utils.theory.quanta_networks")
_rn = importlib.import_module("course_utils.theory.regimes_networks")
_sr = importlib.import_module("course_utils.theory.scaling_regimes")
_sp = importlib.import_module("course_utils.theory.signal_propagation")

_TT = np.array([0.0, 1.0, 5.0])
_LAM = np.array([1.0, 0.5])
_SS = np.array([1.0, 2.0])
add(_lw.linear_mode, lambda: dict(t=_TT.copy(), lam=1.0, S=1.0, theta0=0.0))
add(_lw.linear_time_to, lambda: dict(fraction=0.5, lam=_LAM.copy(), theta0=0.0, S=1.0))
add(_lw.diagonal_mode, lambda: dict(t=_TT.copy(), lam=1.0, S=1.0, w0=0.01, c=0.0))
add(_lw.diagonal_rapidity, lambda: dict(t=_TT.copy(), lam=1.0, S=1.0, w0=0.01, c=0.1))
add(_lw.diagonal_time_to, lambda: dict(w=0.5, lam=_LAM.copy(), S=1.0, w0=0.01, c=0.0))
add(_lw.crossing_time, lambda: dict(fraction=0.5, lam=_LAM.copy(), S=_SS.copy(), w0=0.01, c=0.0))
add(_lw.small_init_midpoint, lambda: dict(lam=_LAM.copy(), S=_SS.copy(), w0=0.01))
add(_lw.rise_time, lambda: dict(lam=_LAM.copy(), S=_SS.copy(), low=0.1, high=0.9))
add(_lw.is_stage_like, lambda: dict(t_emerge=np.array([1.0, 5.0]), t_saturate=np.array([3.0, 8.0])))
add(_lw.conservation_drift, lambda: dict(lr=0.01, T=5.0, lam=_LAM.copy(), S=_SS.copy(), w0=0.01, c=0.0))
add(_lw.saxe_rhs, lambda: dict(u=np.array([0.1, 0.5]), s=1.0, depth=2, lam=1.0))
add(_lw.saxe_mode, lambda: dict(t=_TT.copy(), s=1.0, u0=0.01, depth=3, lam=1.0))
add(_lw.saxe_time_to, lambda: dict(u=np.array([0.1, 0.5]), s=1.0, u0=0.01, depth=3, lam=1.0))
add(_lw.saxe_plateau_time, lambda: dict(s=_SS.copy(), u0=0.01, depth=3, lam=1.0))
add(_lw.silent_alignment_strength, lambda: dict(W1=0.01 * randn(5, 4), W2=0.01 * randn(3, 5, seed=1),
                                                 target_map=randn(3, 4, seed=2)))
add(_lw.lazy_residual, lambda: dict(weights=[randn(5, 4), randn(3, 5, seed=1)], target_map=randn(3, 4, seed=2),
                                     t=_TT.copy(), lr=None))

add(_lr.weight_to_target_ratio, lambda: dict(norm_sq=2.0, target=1.0, input_scale=1.0, Z=1.0))
add(_lr.rapidity_at_convergence, lambda: dict(rho=np.array([0.1, 10.0]), omega=0.0))
add(_lr.relative_change_from_rapidity, lambda: dict(tau=np.array([0.1, 1.0]), rho=1.0, omega=0.0))
add(_lr.norm_ratio_from_rapidity, lambda: dict(tau=np.array([0.1, 1.0]), rho=1.0, omega=0.0))
add(_lr.relative_change_at_convergence, lambda: dict(rho=np.array([0.1, 10.0]), omega=0.0))


def _scalar_model():
    return _lr.ScalarModel(norm_sq=2.0, w0=0.1, target=1.0, input_scale=1.0, Z=1.0)


add(_lr.ScalarModel, lambda: dict(norm_sq=2.0, w0=0.1, target=1.0, input_scale=1.0, Z=1.0))
add(_lr.ScalarModel.from_weights, lambda: (_lr.ScalarModel.from_weights, dict(a=np.array([0.3, 0.2]),
                                                                              b=np.array([0.1, 0.4]), target=1.0,
                                                                              input_scale=1.0, Z=1.0)))
for _method in ("rapidity", "output", "loss", "norm_ratio", "relative_change"):
    add(getattr(_lr.ScalarModel, _method),
        (lambda m: lambda: (getattr(_scalar_model(), m), dict(t=_TT.copy())))(_method))
add(_lr.gradient_flow_rhs, lambda: dict(a=np.array([0.3, 0.2]), b=np.array([0.1, 0.4]), target=1.0, input_scale=1.0,
                                         Z=1.0))
add(_lr.gradient_descent, lambda: dict(a=np.array([0.3, 0.2]), b=np.array([0.1, 0.4]), target=1.0, input_scale=1.0,
                                        Z=1.0, lr=0.01, steps=20, record=None))

_PQ = _quanta.skill_probabilities(8, 0.5)
add(_quanta.exponents, lambda: dict(alpha=0.5))
add(_quanta.skill_probabilities, lambda: dict(n_skills=8, alpha=0.5))
add(_quanta.normaliser, lambda: dict(n_skills=8, alpha=0.5))
add(_quanta.zipf_tail, lambda: dict(n_skills=8, alpha=0.5))
add(_quanta.skill_strength, lambda: dict(t=_TT[:, None].copy(), p=_PQ.copy(), S=1.0, s0=1e-4))
add(_quanta.half_time, lambda: dict(p=_PQ.copy(), S=1.0, s0=1e-4))
add(_quanta.gradient_descent, lambda: dict(p=_PQ.copy(), steps=10, lr=1.0, S=1.0, a0=0.01, b0=None,
                                           record_steps=[0, 5, 10]))
add(_quanta.loss_from_strengths, lambda: dict(s=np.full(8, 0.5), p=_PQ.copy(), S=1.0))
add(_quanta.loss_time, lambda: dict(t=_TT.copy(), p=_PQ.copy(), S=1.0, s0=1e-4))
add(_quanta.time_law_prefactor, lambda: dict(alpha=0.5, n_skills=8, S=1.0, s0=1e-4))
add(_quanta.expected_loss_data, lambda: dict(D=np.array([1.0, 10.0, 100.0]), p=_PQ.copy()))
add(_quanta.data_law_prefactor, lambda: dict(alpha=0.5, n_skills=8))
add(_quanta.loss_parameters, lambda: dict(N=np.array([1, 3, 5]), p=_PQ.copy()))
add(_quanta.parameter_law_asymptote, lambda: dict(N=np.array([1.0, 3.0]), alpha=0.5, n_skills=8))
add(_quanta.loss_with_units, lambda: dict(s=np.full(8, 0.5), p=_PQ.copy(), N=np.array([2, 4]), S=1.0))
add(_quanta.loss_time_parameters, lambda: dict(t=_TT[:, None].copy(), N=np.array([2, 4]), p=_PQ.copy(), S=1.0, s0=1e-4))
add(_quanta.compute_frontier, lambda: dict(C=np.array([10.0, 100.0]), p=_PQ.copy(), lr=1.0, S=1.0, s0=1e-4,
                                           n_grid=20))
add(_quanta.lower_envelope, lambda: dict(x=np.array([1.0, 2.0, 3.0]), y=np.array([3.0, 2.0, 1.5]),
                                         x_eval=np.array([1.5, 2.5])))
add(_quanta.logistic, lambda: dict(t=_TT.copy(), t_half=2.0, rate=1.0))
add(_quanta.fit_logistic, lambda: dict(t=np.arange(10.0), a=_quanta.logistic(np.arange(10.0), 4.0, 1.0)))
add(_quanta.calibrated_sigmoids, lambda: dict(t=_TT.copy(), p=_PQ.copy(), p_ref=float(_PQ[0]), t_half_ref=2.0,
                                              rate_ref=1.0))
add(_quanta.count_threshold_law, lambda: dict(n=np.array([0.5, 2.0, 5.0]), D_c=2.0))
add(_quanta.fit_count_threshold, lambda: dict(n=np.array([0.5, 1, 2, 4, 8]), a=np.array([0.0, 0.1, 0.5, 1, 1])))

add(_qn.tail_loss, lambda: dict(n=np.array([0, 2.5, 8]), p=_PQ.copy(), unlearned_loss=1.0))
add(_qn.expected_tail_loss_data, lambda: dict(D=np.array([10, 100]), p=_PQ.copy(), D_c=2.0, unlearned_loss=1.0))
add(_qn.units_per_skill, lambda: dict(widths=np.array([4, 8, 16]), n_learned=np.array([1, 2, 4])))
add(_qn.count_threshold, lambda: dict(counts=np.array([[1, 5, 10], [2, 3, 20]]),
                                      learned=np.array([[False, True, True], [False, False, True]])))
add(_qn.learned_prefix_fraction, lambda: dict(learned=np.array([[True, True, False], [True, False, True]])))
add(_qn.out_of_order_fraction, lambda: dict(learned=np.array([[True, True, False], [True, False, True]])),
    allow_nan=True)   # NaN: no informative pair of skills (documented)


def _rn_net():
    return _ntke.BatchedNTKMLP(2, 3, 5, 1, activation="relu", sigma_w=1.3, sigma_b=0.6, seeds=[3, 4],
                               dtype=torch.float64)


def _rn_problem():
    theta = _rn.member_parameters(_rn_net(), 1)
    X = trandn(12, 3, seed=5)
    y = trandn(12, seed=6)
    return theta, X, y


add(_rn.kernel_momentum_dynamics, lambda: (lambda K, Kc, Kt, y: dict(Theta_train=K, Theta_cross=Kc, y_train=y, steps=5,
                                                                      lr=0.05, momentum=0.5))(*_kernel_problem()))


def _train_centred_call():
    net = _rn_net()
    return Call(_rn.train_centred, dict(net=net, X=trandn(6, 3), y=trandn(6, seed=1), X_test=trandn(4, 3, seed=2),
                                        steps=3, lr=0.1, momentum=0.5, scale=2.0, desc="centred", progress=False),
                watch=(net,))


add(_rn.train_centred, _train_centred_call)
add(_rn.one_hidden_layer, lambda: dict(zip(("theta", "X"), _rn_problem()[:2]), width=5, sigma_w=1.3, sigma_b=0.6))
add(_rn.member_parameters, lambda: dict(net=_rn_net(), k=1))
add(_rn.network_jacobian, lambda: dict(zip(("theta", "X"), _rn_problem()[:2]), width=5, sigma_w=1.3, sigma_b=0.6))
add(_rn.loss_gradient_hessian, lambda: dict(zip(("theta", "X", "y"), _rn_problem()), width=5, sigma_w=1.3,
                                             sigma_b=0.6, need_g=True))
add(_rn.newton_polish, lambda: dict(zip(("theta", "X", "y"), _rn_problem()), width=5, sigma_w=1.3, sigma_b=0.6,
                                     dtol=1e-10, max_iter=3))
add(_rn.asymptotic_excess_coefficient, lambda: dict(H=np.diag([2.0, 1.0, 0.0]), G=np.diag([4.0, 3.0, 0.0]),
                                                     rcond=1e-9))
add(_rn.fit_inverse_width, lambda: dict(width=np.array([8, 16, 32, 64]), loss=np.array([0.3, 0.2, 0.15, 0.125]),
                                         stderr=np.full(4, 0.01)))

add(_sr.spectrum_integral, lambda: dict(alpha=0.5))
add(_sr.resolution_limited_coefficient, lambda: dict(alpha=0.5))
add(_sr.resolution_limited_loss, lambda: dict(n=np.array([10.0, 100.0]), alpha=0.5))
add(_sr.resolution_limited_loss_finite, lambda: dict(spectrum=spectrum(20), n=np.array([2, 5, 10])))
add(_sr.variance_limited_loss, lambda: dict(loss_limit=0.1, n_fixed=4, n=np.array([10, 100])))
add(_sr.variance_limited_coefficient, lambda: dict(loss_limit=0.1, n_fixed=4))
add(_sr.manifold_exponent, lambda: dict(d=3, quantity="linear"))
add(_sr.kernel_learning_curve_exponent, lambda: dict(spectrum_exponent=1.5, target_exponent=2.0))
add(_sr.spectral_learning_curve, lambda: dict(eigenvalues=spectrum(20), target_power=spectrum(20, 2.0),
                                               n=np.array([2, 5, 10]), ridge=0.0))
add(_sr.tail_power, lambda: dict(power=spectrum(5, 2.0)))


def _sp_model(K: int = 2):
    model = _layers.BatchedMLP(K, [5, 7, 6, 3], "tanh", init=None)
    _sp.init_gaussian(model, [1.0, 2.5][:K], 0.05, tgen(1))
    return model


add(_sp.chi_c, lambda: dict(activation="tanh", sigma_w2=1.5, sigma_b2=0.05))
add(_sp.depth_scales, lambda: dict(sigma_w2=np.array([1.0, 1.7]), activation="tanh", sigma_b2=0.05))
add(_sp.gradient_profile, lambda: dict(depth=5, q1=1.05, activation="tanh", sigma_w2=1.0, sigma_b2=0.05,
                                        input_norm2=5.0, width=16))
add(_sp.log_gradient_shift, lambda: dict(sigma_w2=0.3, activation="tanh", sigma_b2=1e-4, width=100))
add(_sp.init_gaussian, lambda: (lambda m: Call(_sp.init_gaussian, dict(model=m, sigma_w2=[1.0, 2.5], sigma_b2=0.05,
                                                                       generator=tgen(1)), watch=(m,)))(
    _layers.BatchedMLP(2, [5, 7, 6, 3], "tanh", init=None)))
add(_sp.per_sample_weight_gradients, lambda: dict(model=_sp_model(), X=trandn(2, 4, 5, dtype=torch.float32),
                                                  y=torch.tensor([[0, 1, 2, 0], [1, 2, 0, 1]]),
                                                  loss_fn=_etrain.cross_entropy_per_sample))
add(_sp.pair_correlation_decay, lambda: dict(c_start=[0.9, 0.2], q=1.0, activation="tanh", sigma_w2=[1.5],
                                             sigma_b2=0.05, width=16, depth=3, n_networks=2, generator=tgen(3),
                                             dtype=torch.float64))
add(_sp.crossing_depth, lambda: dict(depths=[4, 8, 16, 32], score=np.array([[0.9, 0.8, 0.4, 0.1]]), threshold=0.6),
    allow_nan=True)   # NaN: never falls below the threshold
