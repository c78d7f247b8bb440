"""The gradebook as CSV: one row per student and assignment, with every question's score.

nbgrader 0.9.6's `export` writes totals only, and a student whose notebook could not be graded
gets a 0.0 that looks like a real zero. Here every row also says what happened:

    assignment, student_id, last_name, first_name, email, status, reason,
    <one column per graded cell, e.g. test_q1, test_q2, ..., written_q4>,
    auto_score, manual_score, needs_manual_grade, to_grade_by_hand, raw_score,
    late_submission_penalty, score, provisional, max_score, timestamp, sandbox

`sandbox` says where the student's code ran ("bubblewrap 0.8.0", or "none (--no-sandbox)").
`to_grade_by_hand` is the points of the cells still waiting for hand grading (a written answer
not graded yet, or one whose text changed in a resubmission); while any cell waits (even one worth
0 points), `provisional` is "yes": the score is not final (a changed answer's question column shows the earlier hand
score, kept for your review).
A question column is empty when the cell has no score yet (e.g. a written answer not yet graded
by hand, or a submission that could not be run); status and reason come from
`course.grading.status`. Rows are read through nbgrader's Gradebook API, never from the tables.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import nbformat

from . import config as course_config
from . import status

FIXED = ["assignment", "student_id", "last_name", "first_name", "email", "status", "reason"]
TOTALS = ["auto_score", "manual_score", "needs_manual_grade", "to_grade_by_hand", "raw_score",
          "late_submission_penalty", "score", "provisional", "max_score", "timestamp", "sandbox"]


def _question_columns(course, assignment) -> list[tuple[str, str, str]]:
    """(notebook, grade_id, column name) for every graded cell, in the order of the source notebook."""
    columns = []
    notebooks = sorted(nb.name for nb in assignment.notebooks)
    for notebook in notebooks:
        recorded = {c.name for c in next(nb for nb in assignment.notebooks if nb.name == notebook).grade_cells}
        order = []
        path = Path(course.format_path(course.source_directory, ".", assignment.name)) / f"{notebook}.ipynb"
        try:
            for cell in nbformat.read(path, as_version=4).cells:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if gid in recorded and gid not in order:
                    order.append(gid)
        except (OSError, ValueError):
            pass
        order += sorted(recorded - set(order))
        prefix = f"{notebook}:" if len(notebooks) > 1 else ""
        columns += [(notebook, gid, prefix + gid) for gid in order]
    return columns


def _number(value) -> str:
    return "" if value is None else f"{float(value):g}"


def rows(config, assignments: list[str] | None = None) -> tuple[list[str], list[dict]]:
    """The header and the rows of the export (every student of the gradebook, every assignment)."""
    from nbgrader.api import MissingEntry

    course = course_config.coursedir(config)
    autograded = Path(course.format_path(course.autograded_directory, ".", ".")).resolve()
    header, out = list(FIXED), []
    with course_config.gradebook(config) as gb:
        chosen = [a for a in gb.assignments if not assignments or a.name in assignments]
        missing = sorted(set(assignments or []) - {a.name for a in chosen})
        if missing:
            raise SystemExit(f"course grade: not in the gradebook: {', '.join(missing)} (run `course grade "
                             "generate` first)")
        per_assignment = {a.name: _question_columns(course, a) for a in chosen}
        questions = []
        for columns in per_assignment.values():
            questions += [c[2] for c in columns if c[2] not in questions]
        header += questions + TOTALS
        for assignment in chosen:
            records = status.read(autograded, assignment.name)
            roster = {s.id: s for s in gb.students}
            for student_id in sorted(set(roster) | set(records)):
                student = roster.get(student_id)
                record = records.get(student_id, {})
                row = {key: "" for key in header}
                row.update(assignment=assignment.name, student_id=student_id,
                           last_name=getattr(student, "last_name", None) or "",
                           first_name=getattr(student, "first_name", None) or "",
                           email=getattr(student, "email", None) or "", max_score=_number(assignment.max_score))
                try:
                    submission = gb.find_submission(assignment.name, student_id)
                except MissingEntry:
                    submission = None
                row["status"] = record.get("status") or ("missing" if submission is None else "graded")
                row["reason"] = record.get("reason") or ("no submission" if submission is None else "")
                row["sandbox"] = record.get("sandbox") or ""
                if submission is None:
                    row.update(auto_score="0", manual_score="0", needs_manual_grade="0", to_grade_by_hand="0",
                               raw_score="0", late_submission_penalty="0", score="0", provisional="no")
                    out.append(row)
                    continue
                grades = {(nb.name, g.name): g for nb in submission.notebooks for g in nb.grades}
                shown = record.get("status") not in ("missing", "not a notebook") or "earlier grade" in row["reason"]
                for notebook, gid, column in per_assignment[assignment.name]:
                    grade = grades.get((notebook, gid))
                    if grade is not None and shown and not (grade.manual_score is None and grade.auto_score is None):
                        row[column] = _number(grade.score)
                values = grades.values()
                penalty = submission.late_submission_penalty or 0.0
                raw = submission.score if shown else 0.0
                waiting = sum(g.max_score or 0 for g in values if g.needs_manual_grade) if shown else 0
                # a cell waiting for a hand grade keeps the score provisional even when it carries no points
                unsettled = shown and any(g.needs_manual_grade for g in values)
                row.update(auto_score=_number(sum(g.auto_score or 0 for g in values) if shown else 0),
                           manual_score=_number(sum(g.manual_score or 0 for g in values) if shown else 0),
                           needs_manual_grade=str(sum(1 for g in values if g.needs_manual_grade) if shown else 0),
                           to_grade_by_hand=_number(waiting), raw_score=_number(raw),
                           late_submission_penalty=_number(penalty), score=_number(max(0.0, raw - penalty)),
                           provisional="yes" if unsettled else "no",
                           timestamp=str(submission.timestamp or ""))
                out.append(row)
    return header, out


def to_csv(config, assignments: list[str] | None = None) -> str:
    header, data = rows(config, assignments)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data)
    return buffer.getvalue()
