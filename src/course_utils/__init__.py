"""course_utils: the shared code of the Physics of Learning course.

Small modules, each with one job:

- :mod:`course_utils.validate` the checks of every argument: one clear message naming what was wrong
- :mod:`course_utils.device`   device choice, seeding, threads, determinism (:func:`setup`)
- :mod:`course_utils.scale`    the ``COURSE_SCALE`` switch for a chapter's parameters (:func:`scaled`)
- :mod:`course_utils.checks`   theory-vs-experiment checks with explicit tolerances
- :mod:`course_utils.progress` progress bars: live in Jupyter, plain text in stored notebooks
- :mod:`course_utils.fits`     power-law fits
- :mod:`course_utils.plotting` the house style, page-width panels, and the plots that recur
- :mod:`course_utils.explore`  interactive explorers: sliders in Jupyter, a static figure in the book
- :mod:`course_utils.train`    a small training loop with a recorded history
- :mod:`course_utils.ensemble` many small models trained as one batched computation (sweeps, phase diagrams)
- :mod:`course_utils.diagnostics` feature-learning diagnostics: weight change, effective dimension, alignment
- :mod:`course_utils.data`     datasets, all available offline
- :mod:`course_utils.models`   the models of the course
- :mod:`course_utils.theory`   the analytic side: closed forms, kernels, effective theories
- :mod:`course_utils.exercises` checker functions for the chapters' exercises
"""

from .checks import CheckResult, check_close, check_count, check_less, check_true, relative_error
from .device import current_seed, pick_device, seed, seed_everything, set_num_threads, setup
from .progress import progress
from .fits import PowerLawFit, fit_power_law
from .plotting import panels, use_house_style
from .scale import current_scale, scaled
from .train import History, TrainingDiverged, log_spaced_steps, train

__version__ = "0.2.0"

__all__ = [
    "CheckResult", "check_close", "check_count", "check_less", "check_true", "relative_error",
    "current_seed", "pick_device", "seed", "seed_everything", "set_num_threads", "setup",
    "progress",
    "PowerLawFit", "fit_power_law",
    "panels", "use_house_style",
    "current_scale", "scaled",
    "History", "TrainingDiverged", "log_spaced_steps", "train",
]
