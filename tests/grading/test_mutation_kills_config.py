"""Fast tests of course/grading/config.py (issue 20): finding the course folder, reading its
nbgrader_config.py (and only it), the gradebook's place and lock timeout, the `alembic` program on
PATH, and an nbgrader CourseDirectory with values set."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from test_mutation_kills_autograde import TINY, empty_gradebook, tiny_course

from course.grading import config as course_config

# -- find_root -----------------------------------------------------------------------------------------


def test_the_course_is_the_nearest_folder_with_nbgrader_config(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "sub" / "inner"
    (inner / "deep" / "er").mkdir(parents=True)
    (outer / "nbgrader_config.py").write_text("")
    assert course_config.find_root(outer) == outer.resolve()
    assert course_config.find_root(inner / "deep") == outer.resolve()
    assert course_config.find_root(str(inner / "deep" / "er")) == outer.resolve()  # a str works too
    (inner / "nbgrader_config.py").write_text("")
    assert course_config.find_root(inner / "deep" / "er") == inner.resolve()


def test_the_search_starts_in_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "nbgrader_config.py").write_text("")
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert course_config.find_root() == tmp_path.resolve()
    assert course_config.find_root(None) == tmp_path.resolve()


def test_a_folder_named_like_the_config_file_is_not_a_course(tmp_path):
    (tmp_path / "c" / "nbgrader_config.py").mkdir(parents=True)
    with pytest.raises(course_config.CourseNotFound) as err:
        course_config.find_root(tmp_path / "c")
    here = (tmp_path / "c").resolve()
    assert str(err.value) == (f"no nbgrader_config.py in {here} or any folder above it: run the command inside "
                              "the course folder, or pass --root")
    assert isinstance(err.value, RuntimeError)


# -- the alembic program ---------------------------------------------------------------------------------


def test_this_python_environment_programs_are_put_first_on_path(monkeypatch):
    """nbgrader runs `alembic` to create a gradebook: the environment's own must be found."""
    bindir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/local/bin", "/usr/bin"]))
    course_config.ensure_tools_on_path()
    assert os.environ["PATH"] == os.pathsep.join([bindir, "/usr/local/bin", "/usr/bin"])
    course_config.ensure_tools_on_path()  # already there: unchanged
    assert os.environ["PATH"] == os.pathsep.join([bindir, "/usr/local/bin", "/usr/bin"])
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", bindir]))
    course_config.ensure_tools_on_path()
    assert os.environ["PATH"] == os.pathsep.join(["/usr/bin", bindir])
    monkeypatch.setenv("PATH", bindir + "x")  # a longer folder name is not the folder
    course_config.ensure_tools_on_path()
    assert os.environ["PATH"] == os.pathsep.join([bindir, bindir + "x"])


@pytest.mark.parametrize("empty", [True, False])
def test_without_a_path_the_environment_programs_are_the_path(monkeypatch, empty):
    bindir = str(Path(sys.executable).parent)
    if empty:
        monkeypatch.setenv("PATH", "")
    else:
        monkeypatch.delenv("PATH", raising=False)
    course_config.ensure_tools_on_path()
    assert os.environ["PATH"] == bindir


# -- load -------------------------------------------------------------------------------------------------


def test_the_config_is_the_course_file_with_its_root_and_gradebook(tmp_path, monkeypatch):
    root = tiny_course(tmp_path / "c", gradebook=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin")
    config = course_config.load("c")  # a relative folder
    assert config.CourseDirectory.root == str(root.resolve())
    assert config.CourseDirectory.course_id == "peace-talks"  # read from the course's file
    assert config.CourseDirectory.db_url == f"sqlite:///{root.resolve() / 'gradebook.db'}?timeout=60"
    assert os.environ["PATH"].startswith(str(Path(sys.executable).parent) + os.pathsep)
    assert course_config.DB_LOCK_TIMEOUT == 60


def test_a_database_named_in_the_course_file_is_kept(tmp_path):
    root = tiny_course(tmp_path / "c", "\nc.CourseDirectory.db_url = 'sqlite:////srv/grades/course.db'\n",
                       gradebook=False)
    config = course_config.load(root)
    assert config.CourseDirectory.db_url == "sqlite:////srv/grades/course.db"
    assert course_config.database_file(config) == Path("/srv/grades/course.db")


def test_only_the_course_file_is_read(tmp_path, monkeypatch):
    """A grading run does not depend on the nbgrader_config.py of the current folder or of ~/.jupyter."""
    root = tiny_course(tmp_path / "c", gradebook=False)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'other'\n")
    monkeypatch.chdir(tmp_path)
    assert course_config.load(root).CourseDirectory.course_id == "peace-talks"


# -- coursedir, database_file, gradebook ------------------------------------------------------------------


def test_a_course_directory_has_the_config_and_the_values_asked_for(tmp_path):
    root = tiny_course(tmp_path / "c", gradebook=False)
    config = course_config.load(root)
    course = course_config.coursedir(config, assignment_id=TINY, student_id="alice")
    assert (course.assignment_id, course.student_id) == (TINY, "alice")
    assert course.root == str(root.resolve()) and course.source_directory == "exercises"
    assert course.format_path(course.submitted_directory, "alice", TINY) == \
        str(root.resolve() / "submitted" / "alice" / TINY)
    assert course_config.coursedir(config).assignment_id == ""


def test_the_gradebook_file_is_read_from_its_url(tmp_path):
    root = tiny_course(tmp_path / "c", gradebook=False)
    config = course_config.load(root)
    assert course_config.database_file(config) == root.resolve() / "gradebook.db"
    config.CourseDirectory.db_url = "sqlite:////srv/gradebook.db?timeout=60&note=why?"  # the path ends at the first ?
    assert course_config.database_file(config) == Path("/srv/gradebook.db")
    config.CourseDirectory.db_url = "postgresql://grader@db.example.org/grades"
    assert course_config.database_file(config) is None
    config.CourseDirectory.db_url = "sqlite://relative.db"  # not three slashes: not a file path we know
    assert course_config.database_file(config) is None


def test_the_gradebook_is_the_course_one(tmp_path):
    root = tiny_course(tmp_path / "c")
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        gb.update_or_create_student("alice")
        assert gb.course_id == "peace-talks"
        assert str(gb.engine.url).startswith(f"sqlite:///{root.resolve() / 'gradebook.db'}")
    with course_config.gradebook(config) as gb:
        assert [s.id for s in gb.students] == ["alice"]
    assert (root / "gradebook.db").stat().st_size >= empty_gradebook().stat().st_size
