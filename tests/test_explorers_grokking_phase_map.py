"""The grokking phase-map explorer of part 5: the chosen cell's curves are that run's, the map is the majority."""


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.ensemble import Grid, first_step_reaching, mse_per_sample, train_ensemble  # noqa: E402
from course_utils.explorers import grokking_phase_map as gpm  # noqa: E402
from course_utils.theory import grokking as theory  # noqa: E402
from explorer_testing import live_controls, redraw_cpu_seconds  # noqa: E402

STEPS = np.arange(0, 1001, 100)
THRESHOLD, BUDGET = 0.9, 1000


def _ramp(t_reach):
    """An accuracy curve that first reaches the threshold at step t_reach (never: stays at 0.5)."""
    if t_reach is None:
        return np.full(STEPS.size, 0.5)
    return np.where(STEPS >= t_reach, 1.0, 0.5 * STEPS / max(t_reach, 1))


@pytest.fixture(scope="module")
def synthetic():
    """A 2 (weight decay) × 3 (lr) × 2 (seed) grid whose runs have known phases and known embeddings."""
    grid = Grid(decoder_wd=[0.01, 1.0], decoder_lr=[1e-3, 3e-3, 1e-2], seed=range(2))
    # (train, val) steps to threshold per member: comprehension, grokking (delays 300 and 600), memorisation, confusion
    plan = [(100, 100), (100, 400), (200, 800), (100, None), (None, None), (100, 150),
            (300, 300), (100, 300), (None, None), (None, None), (100, None), (200, 200)]
    train = np.stack([_ramp(a) for a, _ in plan], axis=1)
    val = np.stack([_ramp(b) for _, b in plan], axis=1)
    rng = np.random.default_rng(0)
    line = np.arange(10.0)[:, None]                                   # E_k = k: RQI = 1
    emb = rng.standard_normal((STEPS.size, grid.size, 10, 1))
    emb[-1, 1] = 2.0 * line - 3.0                                     # member 1 ends on a line
    phase = theory.classify_phase(*(np.array([np.nan if v is None else v for v in col], dtype=float)
                                    for col in zip(*plan)), budget=BUDGET)
    return grid, train, val, emb, phase


def _explorer(synthetic, **kw):
    grid, train, val, emb, phase = synthetic
    return gpm.explorer(grid, x="decoder_lr", y="decoder_wd", steps=STEPS, train_acc=train, val_acc=val,
                        embeddings=emb, threshold=THRESHOLD, budget=BUDGET, x_label="decoder learning rate",
                        y_label="decoder weight decay", phase=phase, **kw)


def _curves(fig):
    return {ln.get_label(): ln.get_ydata() for ln in fig.axes[1].get_lines() if not ln.get_label().startswith("_")}


def test_the_default_is_the_longest_grokking_run(synthetic):
    ex = _explorer(synthetic)
    assert ex.defaults == {"decoder_lr": "0.003", "decoder_wd": "0.01", "seed": 0}      # member 2: delay 600
    fig = ex.figure()
    assert "grokking" in fig.axes[1].get_title()
    plt.close(fig)


@pytest.mark.parametrize("wd, lr, seed", [("0.01", "0.001", 0), ("0.01", "0.001", 1), ("1", "0.01", 1),
                                          ("1", "0.001", 0), ("0.01", "0.003", 1)])
def test_the_chosen_cell_draws_that_runs_curves(synthetic, wd, lr, seed):
    grid, train, val, emb, phase = synthetic
    ex = _explorer(synthetic)
    fig = ex.figure(decoder_wd=wd, decoder_lr=lr, seed=seed)
    k = grid.member(decoder_wd=float(wd), decoder_lr=float(lr), seed=seed)
    drawn = _curves(fig)
    np.testing.assert_array_equal(drawn["training accuracy"], train[:, k])
    np.testing.assert_array_equal(drawn["validation accuracy"], val[:, k])
    np.testing.assert_allclose(drawn["RQI of the embeddings"], [theory.rqi(e) for e in emb[:, k]])
    assert theory.PHASES[phase[k]] in fig.axes[1].get_title()
    marks = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "s"]
    assert marks and all(m.get_xdata()[0] == float(lr) and m.get_ydata()[0] == float(wd) for m in marks)
    plt.close(fig)


def test_the_map_is_the_majority_over_seeds(synthetic):
    grid, *_, phase = synthetic
    fig = _explorer(synthetic).figure()
    drawn = np.asarray(fig.axes[0].collections[0].get_array()).reshape(2, 3)
    codes = grid.to_array(phase).transpose("decoder_wd", "decoder_lr", "seed").values
    expected = np.array([[c[0] if c[0] == c[1] else gpm.SPLIT for c in row] for row in codes])   # two seeds
    np.testing.assert_array_equal(drawn, expected)
    assert drawn[0, 1] == gpm.SPLIT       # members 2 and 3, grokking and memorisation: a tie is drawn as split
    np.testing.assert_array_equal(gpm.majority_phase([[0, 0, 1], [1, 2, 2], [3, 1, 3], [0, 1, 2]]),
                                  [0, 2, 3, gpm.SPLIT])
    np.testing.assert_array_equal(gpm.majority_phase([[0, 1], [2, 2]], axis=0), [gpm.SPLIT, gpm.SPLIT])
    plt.close(fig)


def test_rqi_history_is_theory_rqi_vectorised():
    rng = np.random.default_rng(1)
    E = rng.standard_normal((4, 3, 10, 2))
    E[1, 2] = np.arange(10.0)[:, None] * np.array([1.0, -0.5])        # a line in the plane: RQI 1
    E[2, 0] = 0.0                                                     # all embeddings coincide: undefined
    got = gpm.rqi_history(E)
    assert got[1, 2] == 1.0 and np.isnan(got[2, 0])
    for idx in [(0, 0), (1, 2), (3, 1)]:
        assert got[idx] == pytest.approx(theory.rqi(E[idx]))
    np.testing.assert_allclose(gpm.rqi_history(torch.tensor(E[:1])), got[:1])


@pytest.mark.parametrize("values, match", [({"decoder_lr": "0.002"}, "decoder_lr must be one of"),
                                           ({"seed": 5}, "seed must be one of"),
                                           ({"embed_lr": "0.01"}, "unknown")])
def test_bad_values_are_named(synthetic, values, match):
    with pytest.raises(ValueError, match=match):
        _explorer(synthetic).figure(**values)


def test_bad_arguments_are_refused(synthetic):
    grid, train, val, emb, phase = synthetic
    common = dict(steps=STEPS, train_acc=train, val_acc=val, embeddings=emb, threshold=THRESHOLD, budget=BUDGET)
    with pytest.raises(ValueError, match="three axes"):
        gpm.explorer(grid, x="decoder_lr", y="decoder_lr", **common)
    with pytest.raises(ValueError, match="train_acc must have shape"):
        gpm.explorer(grid, x="decoder_lr", y="decoder_wd", **{**common, "train_acc": train[:, :5]})
    with pytest.raises(ValueError, match="differ from the phase given"):
        gpm.explorer(grid, x="decoder_lr", y="decoder_wd", phase=np.roll(phase, 1), **common)


def test_each_redraw_takes_under_a_second_of_cpu(synthetic):
    ex = _explorer(synthetic)
    for values in ({}, {"decoder_wd": "1", "decoder_lr": "0.001", "seed": 1}):
        assert redraw_cpu_seconds(ex, values) < 1.0, values


def test_live_show_builds_three_menus(monkeypatch, synthetic):
    menus, shown = live_controls(_explorer(synthetic), monkeypatch)
    assert [type(m).__name__ for m in menus] == ["Dropdown"] * 3
    assert list(menus[0].options) == ["0.001", "0.003", "0.01"]
    menus[1].value = "1"                                  # redraws another cell
    assert sum(isinstance(o, matplotlib.figure.Figure) for o in shown) >= 2
    plt.close("all")


def test_variants_switch_between_weight_decays(synthetic):
    html = _explorer(synthetic).variants("decoder_wd", ["0.01", "1"]).data
    assert html.count("<img") == 2 and "decoder weight decay = 1" in html
    plt.close("all")


def test_on_a_trained_toy_ensemble():
    """The chapter's recipe at a tiny size: the recorded embeddings and accuracies go in as they come out."""
    from course_utils.data import arithmetic
    from course_utils.data.arithmetic import target_vectors
    from course_utils.models.grokking import BatchedToyAdditionModel, nearest_target_accuracy, toy_optimizer
    p, steps = 6, 200
    task = arithmetic.addition_task(p)
    grid = Grid(decoder_wd=[0.01, 1.0], decoder_lr=[1e-3, 1e-2], seed=range(1))
    K = grid.size
    train_mask = arithmetic.split_masks(task.n, 0.8, seeds=range(K))
    val_mask = arithmetic.answerable(task.sums, train_mask)
    Y = torch.stack([target_vectors(p, task.targets.shape[1], seed=s) for s in range(K)])
    toy = BatchedToyAdditionModel(K, p=p, width=16, seeds=range(K))
    opt = toy_optimizer(toy, embed_lr=np.full(K, 2e-3), decoder_lr=grid["decoder_lr"], decoder_wd=grid["decoder_wd"])
    hist = train_ensemble(toy, mse_per_sample, task.pairs.expand(K, -1, -1), Y[:, task.sums], steps=steps,
                          optimizer=opt, per_member_data=True, sample_weight=train_mask.float(), progress=False,
                          record_steps=range(0, steps + 1, 50),
                          metrics={"train_acc": lambda m: nearest_target_accuracy(m(task.pairs), Y, task.sums, train_mask),
                                   "val_acc": lambda m: nearest_target_accuracy(m(task.pairs), Y, task.sums, val_mask),
                                   "embedding": lambda m: m.embedding})
    phase = theory.classify_phase(first_step_reaching(hist, "train_acc", 0.9), first_step_reaching(hist, "val_acc", 0.9),
                                  budget=steps)
    ex = gpm.explorer(grid, x="decoder_lr", y="decoder_wd", steps=hist["step"], train_acc=hist["train_acc"],
                      val_acc=hist["val_acc"], embeddings=hist["embedding"], threshold=0.9, budget=steps, phase=phase)
    fig = ex.figure(decoder_lr="0.01", decoder_wd="1", seed=0)
    k = grid.member(decoder_wd=1.0, decoder_lr=1e-2, seed=0)
    np.testing.assert_allclose(_curves(fig)["RQI of the embeddings"],
                               [theory.rqi(hist["embedding"][r, k]) for r in range(len(hist["step"]))])
    plt.close(fig)
