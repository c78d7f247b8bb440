"""Where the sandbox's /tmp points, depending on where the course's Python lives (no bwrap needed)."""
from __future__ import annotations

from course.grading import sandbox


def test_tmp_points_into_the_work_folder_normally(monkeypatch):
    monkeypatch.setattr(sandbox, "python_folders", lambda: ["/opt/venv"])
    monkeypatch.setattr(sandbox, "package_folders", lambda: ["/srv/course/course"])
    assert sandbox._tmp_link() == ["--symlink", f"{sandbox.WORK}/.tmp", "/tmp"]


def test_tmp_is_left_to_the_read_only_folders_when_the_course_lives_under_tmp(monkeypatch):
    """A CI clone under /tmp: a symlink at /tmp would fail (bwrap already made /tmp for the binds)."""
    monkeypatch.setattr(sandbox, "python_folders", lambda: ["/tmp/ci/main/.venv"])
    monkeypatch.setattr(sandbox, "package_folders", lambda: ["/tmp/ci/main/course"])
    assert sandbox._tmp_link() == []
    # temporary files still go to the bounded work folder
    assert sandbox.environment()["TMPDIR"] == f"{sandbox.WORK}/.tmp"


def test_a_folder_merely_named_like_tmp_is_not_under_tmp(monkeypatch):
    monkeypatch.setattr(sandbox, "python_folders", lambda: ["/tmpfoo/venv"])
    monkeypatch.setattr(sandbox, "package_folders", lambda: ["/srv/course/course"])
    assert sandbox._tmp_link() == ["--symlink", f"{sandbox.WORK}/.tmp", "/tmp"]
