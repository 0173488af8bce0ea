"""course_utils: the shared code of the Physics of Learning course.

Small modules, each with one job:

- :mod:`course_utils.device`   device choice, seeding, threads, determinism (:func:`setup`)
- :mod:`course_utils.scale`    the ``COURSE_SCALE`` switch for a chapter's parameters (:func:`scaled`)
- :mod:`course_utils.checks`   theory-vs-experiment checks with explicit tolerances
- :mod:`course_utils.fits`     power-law fits
- :mod:`course_utils.plotting` the house style and the plots that recur
- :mod:`course_utils.train`    a small training loop with a recorded history
- :mod:`course_utils.ensemble` many small models trained as one batched computation (sweeps, phase diagrams)
- :mod:`course_utils.diagnostics` feature-learning diagnostics: weight change, effective dimension, alignment
- :mod:`course_utils.data`     datasets, all available offline
- :mod:`course_utils.models`   the models of the course
- :mod:`course_utils.theory`   the analytic side: closed forms, kernels, effective theories
- :mod:`course_utils.exercises` checker functions for the chapters' exercises
"""

from .checks import check_close, check_less, relative_error
from .device import pick_device, seed_everything, set_num_threads, setup
from .fits import PowerLawFit, fit_power_law
from .plotting import use_house_style
from .scale import current_scale, scaled
from .train import History, log_spaced_steps, train

__version__ = "0.1.0"

__all__ = [
    "check_close", "check_less", "relative_error",
    "pick_device", "seed_everything", "set_num_threads", "setup",
    "PowerLawFit", "fit_power_law",
    "use_house_style",
    "current_scale", "scaled",
    "History", "log_spaced_steps", "train",
]
