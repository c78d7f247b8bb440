"""Sample submissions for rehearsing and testing the grading pipeline.

From an assignment's source notebook (with solutions) and its release copy (what students get),
`make(kind, source, release)` builds one kind of submission a real class produces: a correct one,
a wrong one, an untouched release copy, one that loops forever, one whose kernel dies, one with an
edited, deleted or metadata-stripped test cell, one that is not JSON, one with extra cells, one
saved under the wrong name. `expected_auto_score(kind, source)` says what it should score. Works
for any assignment written in the course format (answer cells assign a named variable).
"""
from __future__ import annotations

import ast
import copy
import json

import nbformat

KINDS = ("correct", "wrong", "untouched", "loop", "kernel_dies", "edited_test", "deleted_test",
         "stripped_metadata", "not_json", "extra_cell", "missing")

# What each kind must get from the autograder, and the status the export must show.
STATUS = {"correct": "graded", "wrong": "graded", "untouched": "graded", "loop": "timed out",
          "kernel_dies": "kernel died", "edited_test": "tampered", "deleted_test": "tampered",
          "stripped_metadata": "tampered", "not_json": "not a notebook", "extra_cell": "graded",
          "missing": "missing"}

WRITTEN = "My answer, in my own words: the figures support part of the reading and not the rest."

_WRONG_HELPER = '''
def _make_wrong(value):
    """Turn a right answer into a plausible wrong one of the same type."""
    if hasattr(value, "iloc"):
        return value.iloc[1:]
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + " (changed)"
    if isinstance(value, (list, tuple)):
        return list(value)[1:]
    return None
'''.strip("\n")


def _nb(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_answer(cell) -> bool:
    meta = _nb(cell)
    return cell.cell_type == "code" and meta.get("solution", False) and not meta.get("grade", False)


def is_test(cell) -> bool:
    meta = _nb(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def is_written(cell) -> bool:
    meta = _nb(cell)
    return cell.cell_type == "markdown" and meta.get("grade", False) and meta.get("solution", False)


def solution_code(source: str) -> str:
    """The solution region of an answer cell, without its BEGIN/END SOLUTION lines."""
    return "\n".join(line for line in source.splitlines()
                     if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


def answer_variable(code: str) -> str | None:
    """The name the last top-level assignment of `code` binds (what the tests read)."""
    for node in reversed(ast.parse(code).body):
        if isinstance(node, ast.Assign) and isinstance(node.targets[-1], ast.Name):
            return node.targets[-1].id
        if isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
            return node.target.id
    return None


def _solutions(source) -> dict[str, str]:
    return {_nb(c)["grade_id"]: solution_code(c.source) for c in source.cells if is_answer(c)}


def _answered(source, release):
    """The release copy with every answer cell holding the solution and the written answers filled."""
    nb = copy.deepcopy(release)
    solutions = _solutions(source)
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = solutions[_nb(cell)["grade_id"]]
        elif is_written(cell):
            cell.source = WRITTEN
    return nb


def _answers(nb):
    return [c for c in nb.cells if is_answer(c)]


def _tests(nb):
    return [c for c in nb.cells if is_test(c)]


def make(kind: str, source, release):
    """One sample submission: a NotebookNode, or bytes for the kinds that are not a valid notebook."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    if kind == "untouched":
        return copy.deepcopy(release)
    if kind == "not_json":
        return b'{"cells": [{"cell_type": "code", "source": "war_to_talks = ' + b"\n"
    nb = _answered(source, release)
    if kind in ("correct", "missing"):
        return nb
    if kind == "wrong":
        for cell in _answers(nb):
            name = answer_variable(cell.source)
            cell.source += f"\n{_WRONG_HELPER}\n{name} = _make_wrong({name})"
        return nb
    if kind == "loop":
        _answers(nb)[0].source = "while True:  # a loop that never ends\n    pass"
        return nb
    if kind == "kernel_dies":
        answers = _answers(nb)
        target = answers[1] if len(answers) > 1 else answers[0]
        target.source = "import os\nos._exit(1)  # the kernel process ends here\n" + target.source
        return nb
    if kind == "edited_test":
        first = _answers(nb)[0]
        name = answer_variable(first.source)
        first.source += f"\n{_WRONG_HELPER}\n{name} = _make_wrong({name})"
        _tests(nb)[0].source = "# checks removed by the student\npass"
        return nb
    if kind == "deleted_test":
        tests = _tests(nb)
        victim = tests[1] if len(tests) > 1 else tests[0]
        nb.cells = [c for c in nb.cells if c is not victim]
        return nb
    if kind == "stripped_metadata":
        for cell in nb.cells:
            cell.metadata = nbformat.NotebookNode()
        return nb
    if kind == "extra_cell":
        scratch = ('import os\nprint("checking my own work in", os.getcwd())\n'
                   'with open("my_notes.txt", "w") as notes:  # a file the grader must not keep\n'
                   '    notes.write("draft")')
        nb.cells.insert(2, nbformat.v4.new_code_cell(scratch, id="extra-code"))
        nb.cells.append(nbformat.v4.new_markdown_cell("Notes to myself.", id="extra-notes"))
        return nb
    raise AssertionError(kind)  # pragma: no cover


def write(kind: str, source, release, folder, notebook_name: str) -> None:
    """Write one sample into `folder` (a student's submitted/<student>/<assignment>/ folder)."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sample = make(kind, source, release)
    name = "Untitled.ipynb" if kind == "missing" else f"{notebook_name}.ipynb"
    if isinstance(sample, bytes):
        (folder / name).write_bytes(sample)
    else:
        (folder / name).write_text(json.dumps(sample, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def points(source) -> tuple[list[float], float]:
    """The points of each autograded test cell, in order, and the points graded by hand."""
    tests = [float(_nb(c)["points"]) for c in source.cells if is_test(c)]
    manual = sum(float(_nb(c)["points"]) for c in source.cells if is_written(c))
    return tests, manual


def expected_auto_score(kind: str, source) -> float:
    """What the autograder must give this kind of sample of this assignment."""
    tests, _ = points(source)
    full = sum(tests)
    if kind in ("correct", "deleted_test", "stripped_metadata", "extra_cell"):
        return full
    if kind in ("wrong", "untouched", "not_json", "missing"):
        return 0.0
    if kind in ("loop", "edited_test"):  # the first task fails, the others are right
        return full - tests[0]
    if kind == "kernel_dies":  # only the tests before the second answer cell ran
        answers = [i for i, c in enumerate(source.cells) if is_answer(c)]
        stop = answers[1] if len(answers) > 1 else answers[0]
        return sum(float(_nb(c)["points"]) for c in source.cells[:stop] if is_test(c))
    raise AssertionError(kind)  # pragma: no cover
