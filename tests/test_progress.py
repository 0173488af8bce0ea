"""course_utils.progress: live bars by default, text bars that stay for stored notebooks."""

import pytest

import course_utils as cu


def test_text_bars_stay_and_auto_bars_go(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROGRESS", "text")
    assert list(cu.progress(range(3), desc="steps")) == [0, 1, 2]
    err = capsys.readouterr().err
    assert "steps: 100%" in err and "3/3" in err
    monkeypatch.setenv("COURSE_PROGRESS", "auto")
    bar = cu.progress(total=5, desc="manual")
    bar.update(5)
    bar.close()
    assert bar.leave is False


def test_bad_settings_say_what_is_expected(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "widgets")
    with pytest.raises(ValueError, match="COURSE_PROGRESS"):
        cu.progress(range(3))
    monkeypatch.delenv("COURSE_PROGRESS")
    with pytest.raises(ValueError, match="total"):
        cu.progress()


@pytest.mark.parametrize("kwargs,match", [
    (dict(iterable=5), "iterable"),
    (dict(total=-1), "total"),
    (dict(total=2.5), "total"),
    (dict(total="10"), "total"),
    (dict(iterable=[1], desc=3), "desc"),
    (dict(iterable=[1], disable="no"), "disable"),
])
def test_progress_refuses_bad_arguments(kwargs, match):
    with pytest.raises(cu.validate.ArgumentError, match=match):
        cu.progress(**kwargs)
