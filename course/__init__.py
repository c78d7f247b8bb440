"""The Armenia–Azerbaijan peace-talks course.

In a lesson:  `from course import quiz, exercises, load, cite, progress, python_card, glossary`.
Everything is imported on first use, so `import course` stays light.
"""
from __future__ import annotations

__version__ = "0.1.0"


def quiz(lesson: str, ids=None):
    """Show a lesson's quiz as widgets: `quiz("02_constitution")` or `quiz("constitution", ids=[...])`."""
    from .quizzes import show

    return show(lesson, ids)


def exercises(lesson: str):
    """The lesson's exercises: `ex = exercises("01_war_to_talks")`, then `ex.q1.check()`."""
    from .checks import load_exercises

    return load_exercises(lesson)


def load(name: str):
    """A course data set as a pandas DataFrame, e.g. `load("timeline")`."""
    from .data import load as _load

    return _load(name)


def source(name: str) -> None:
    """Print where a data set comes from and how to cite it."""
    from .data import source as _source

    print(_source(name))


def cite(claim_id: str) -> str:
    """A short citation of a claim of the article, e.g. `cite("constitution.baku-demand")`."""
    from .seeds import cite as _cite

    return _cite(claim_id)


def progress():
    """A table of the quizzes and exercises you have done, lesson by lesson."""
    from .tracking import summary

    return summary()


def python_card():
    """The Python card: the few pieces of Python the course uses, with an example of each."""
    from .learner_path import python_card as _card

    return _card()


def glossary(term: str | None = None):
    """The course glossary as a table, or one term: `glossary("delimitation")`."""
    from .learner_path import glossary as _glossary

    return _glossary(term)


__all__ = ["cite", "exercises", "glossary", "load", "progress", "python_card", "quiz", "source"]
