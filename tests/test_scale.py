import pytest

import course_utils as cu


def test_default_scale(monkeypatch):
    monkeypatch.delenv("COURSE_SCALE", raising=False)
    P = cu.scaled(default=dict(n=10, steps=5), paper=dict(n=1000))
    assert (P.scale, P.n, P.steps) == ("default", 10, 5)


def test_paper_scale_overrides_only_what_it_names(monkeypatch):
    monkeypatch.setenv("COURSE_SCALE", "paper")
    P = cu.scaled(default=dict(n=10, steps=5), paper=dict(n=1000))
    assert (P.scale, P.n, P.steps) == ("paper", 1000, 5)


def test_bad_scale_and_unknown_paper_names(monkeypatch):
    monkeypatch.setenv("COURSE_SCALE", "huge")
    with pytest.raises(ValueError, match="COURSE_SCALE"):
        cu.current_scale()
    with pytest.raises(ValueError, match="no default"):
        cu.scaled(default=dict(n=1), paper=dict(m=2), scale="paper")


@pytest.mark.parametrize("kwargs,match", [
    (dict(default=[("n", 1)]), "default must be a dict"),
    (dict(default=dict(n=1), paper="big"), "paper must be a dict"),
    (dict(default={"n train": 1}), "not a valid Python name"),
    (dict(default={1: 2}), "not a valid Python name"),
    (dict(default=dict(scale=2)), "scale"),
    (dict(default=dict(n=1), scale="huge"), "scale must be one of"),
    (dict(default=dict(n=1), scale=3), "scale must be one of"),
])
def test_scaled_refuses_bad_arguments(kwargs, match):
    with pytest.raises(cu.validate.ArgumentError, match=match):
        cu.scaled(**kwargs)


def test_scaled_accepts_the_scale_in_any_case():
    assert cu.scaled(dict(n=1), dict(n=2), scale="PAPER").n == 2
