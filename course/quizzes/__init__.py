"""Quizzes: YAML banks (`bank.py`), grading (`model.py`), the widget (`widget.py`) and a
plain-text version (`text.py`)."""
from __future__ import annotations

from .bank import Bank, BankError, lesson_names, load_bank, load_file
from .model import ResponseError, Result


def show(lesson: str, ids=None):
    """The quiz of a lesson as widgets (all questions, or those whose ids are given)."""
    from .widget import Quiz

    return Quiz(load_bank(lesson), ids)


__all__ = ["Bank", "BankError", "ResponseError", "Result", "lesson_names", "load_bank", "load_file", "show"]
