# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter title: a question, not a topic
#
# One paragraph: the question this chapter answers, and why a physicist would ask it.
#
# **Prerequisites:** [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb).
# **Runs in:** about a minute on a laptop CPU (`COURSE_SCALE=default`); set `COURSE_SCALE=paper`
# on a GPU for the paper-scale settings.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/<NN_part>/<NN_topic>.ipynb)
# of this chapter, without the solutions (they are in the book).
#
# <!-- How to make a chapter from this template (delete this comment in the chapter):
#   1. copy to book/<NN_part>/<NN_topic>.py and add the file to _toc.yml;
#   2. write it here, as text; shared code goes into src/course_utils (with tests), not here;
#   3. `make chapter CH=book/<NN_part>/<NN_topic>.py` runs it once, stores the outputs and their
#      fingerprint in the paired .ipynb, writes its student notebook (student/<NN_part>/<NN_topic>.ipynb,
#      which the "Exercises on Colab" link above opens), and runs its tests;
#   4. `.venv/bin/python tools/robustness.py --chapters book/<NN_part>/<NN_topic>.py` runs it at
#      seeds 1-5 on an emulated other CPU: every check must pass at every seed.
# -->

# %% tags=["hide-input"]
# Set-up. On Colab this installs the course's shared package at the release this notebook was
# made with (and nothing else: Colab's torch, numpy and matplotlib are kept); elsewhere it does
# nothing. Another version on Colab: first run `%env COURSE_REF=main` (a branch, tag or commit).
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    ref = os.environ.get("COURSE_REF", "v0.2.0")  # the release pinned by tools/release.py
    url = f"git+https://github.com/physics-of-learning/physics-of-learning@{ref}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", url],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        raise RuntimeError(
            f"Could not install course_utils from {url}\n{pip.stderr.strip()[-2000:]}\n\n"
            f"Likely causes: no network, or no tag {ref} in the repository. To install the newest "
            "code instead (it may not match this notebook exactly), run `%env COURSE_REF=main` in a "
            "new cell, then run this cell again.") from None

import matplotlib.pyplot as plt
import numpy as np

import course_utils as cu

cu.use_house_style()
device = cu.setup()  # the seed comes from COURSE_SEED (0 for the stored run)

# %% [markdown]
# ## Parameters
#
# Sizes chosen so that the chapter runs in minutes on a laptop CPU. On a GPU, run with the
# environment variable `COURSE_SCALE=paper` for the paper-scale settings. (This cell's output is the
# same on every machine and at every seed, so the tests compare it with the stored one: the tag
# `nbval-check-output`. Cells that print measured values are not compared; their checks are.)

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(n_train=200, steps=2_000),
    paper=dict(n_train=5_000, steps=20_000),
)
P

# %% [markdown]
# ## 1. The model
#
# Define the model in words and equations, e.g. $f(x;\theta) = \theta^\top \phi(x)$.
#
# ## 2. The theory
#
# Derive the prediction in the text, step by step, ending in a formula the code can evaluate
# (and put that formula in `course_utils.theory`, with its equation in the docstring).
# Cite with `{cite:t}` (Saxe et al. (2014)) or `{cite:p}` ((Saxe et al., 2014)) and a key from
# `book/references.bib`, e.g. `` {cite:t}`saxe2014exact` ``; every work cited is listed on the
# bibliography page.
#
# ## 3. The experiment

# %%
rng = np.random.default_rng(cu.seed(0))  # every draw from cu.seed(k), never a literal seed
t = np.arange(P.steps + 1)
measured = np.exp(-1e-3 * t) * (1 + 1e-4 * rng.standard_normal(t.size))  # replace with a real experiment
predicted = np.exp(-1e-3 * t)

# %% [markdown]
# ## 4. The comparison
#
# Theory (lines) and experiment (markers) on the same axes, axes labelled with units, then a
# check with an explicit tolerance: `cu.check_close` prints the agreement and fails the notebook
# (and CI) when theory and experiment part, at any seed and on any CPU. The same check lives in
# `tests/`. For a curve spanning decades use `mode="every"` (or `"log"`); for "k of K runs" use
# `cu.check_count`; say in the text where the tolerance comes from.

# %%
fig, ax = plt.subplots()
cu.plotting.theory_and_experiment(ax, t, predicted, measured, label="loss", markevery=100)
ax.set_xlabel("gradient steps $t$")
ax.set_ylabel("loss (dimensionless)")
ax.legend()
plt.show()

cu.check_close("loss at the last step", measured[-1], predicted[-1], rtol=0.01)

# %% [markdown]
# ## 5. What it means
#
# The lesson in plain words, and where it leads (link to the next chapter).
#
# ## Exercises
#
# :::{exercise} A short title
# :label: ex-template-1
#
# The question. Where the student writes code, give a checker in `course_utils.exercises` and name
# it here as `exercises.check_answer(answer)`: the student notebook's answer cell calls it.
# :::
#
# :::{solution} ex-template-1
# :class: dropdown
#
# The worked solution, hidden until the reader opens it.
# :::
#
# ## Summary
#
# - one line per lesson.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
