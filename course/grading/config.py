"""The course folder and its nbgrader configuration.

The course folder is the one holding `nbgrader_config.py` (the repository root): nbgrader's
generated folders (release/, submitted/, autograded/, feedback/, gradebook.db) live beside it.
`load(root)` reads that file, and only that file, so a grading run does not depend on whatever
sits in ~/.jupyter; it also points the gradebook at an SQLite URL with a generous lock timeout,
because several grading workers write to it side by side.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

CONFIG_FILE = "nbgrader_config.py"
DB_LOCK_TIMEOUT = 60  # seconds an SQLite writer waits for another one


class CourseNotFound(RuntimeError):
    """No nbgrader_config.py in this folder or any folder above it."""


def find_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above `start` (default: the current folder) with nbgrader_config.py."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise CourseNotFound(f"no {CONFIG_FILE} in {here} or any folder above it: run the command inside the "
                         "course folder, or pass --root")


def ensure_tools_on_path() -> None:
    """nbgrader runs the `alembic` program when it creates a gradebook; make sure the one of this
    Python environment is found even when the environment is not activated."""
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + (os.pathsep + path if path else "")


def load(root: str | os.PathLike):
    """The course's nbgrader configuration, as a traitlets Config, with the root and database set."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    ensure_tools_on_path()
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    if "db_url" not in config.CourseDirectory:
        config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}?timeout={DB_LOCK_TIMEOUT}"
    return config


def coursedir(config, **values):
    """An nbgrader CourseDirectory for `config`, with some values (assignment_id, student_id) set."""
    from nbgrader.coursedir import CourseDirectory

    course = CourseDirectory(config=config)
    for key, value in values.items():
        setattr(course, key, value)
    return course


def database_file(config) -> Path | None:
    """The gradebook's file when it is an SQLite database (None for other databases)."""
    url = coursedir(config).db_url
    if not url.startswith("sqlite:///"):
        return None
    return Path(url[len("sqlite:///"):].split("?", 1)[0])


def gradebook(config):
    """An open nbgrader Gradebook of the course (use it in a `with` block)."""
    from nbgrader.api import Gradebook

    course = coursedir(config)
    return Gradebook(course.db_url, course.course_id)
