"""Exercise checks: declarative tasks (`course/tasks/*.yaml`) judged by `engine.py` with the
teacher-like comparisons of `compare.py`."""
from .engine import (
                     CORRECT,
                     INCORRECT,
                     NOT_ATTEMPTED,
                     Exercise,
                     Exercises,
                     Outcome,
                     TaskError,
                     load_exercises,
                     load_tasks_file,
)

__all__ = ["CORRECT", "INCORRECT", "NOT_ATTEMPTED", "Exercise", "Exercises", "Outcome", "TaskError",
           "load_exercises", "load_tasks_file"]
