"""A pytest plugin for mutation runs only: every test starts with the course's caches empty.

mutmut forks each mutant's test run from a process that has run the tests once already, so a
`functools.cache` filled there (the data sets, the question banks) would hand the mutant results
computed by the unmutated code, and a mutant inside a cached function would survive unseen.
run_mutation.py loads this plugin with `-p mutation_fresh_caches`.
"""
from __future__ import annotations

import sys

import pytest


def clear_course_caches() -> None:
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "course" or name.startswith("course.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


@pytest.fixture(autouse=True)
def _fresh_course_caches():
    clear_course_caches()
    yield
