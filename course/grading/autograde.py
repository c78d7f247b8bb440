"""Autograde an assignment: every submission, side by side, each with a status and a reason.

`run(root, assignment)` is what `course grade autograde` does:

1. looks at every submitted/<student>/<assignment>/ folder (and every student on the gradebook's
   roster): a notebook that is missing or is not a notebook (not JSON, not nbformat) gets that
   status at once, with the parser's message, and is not run;
2. skips a submission whose fingerprint (its files, the source, the limits) matches its last
   grading, so a rerun changes nothing; `force=True` regrades anyway;
3. grades the rest in worker processes with nbgrader's own `Autograde` converter (subclassed
   only to collect what the course's preprocessors recorded), one student per job, each in its
   own sandbox (`course.grading.sandbox`; without bubblewrap it refuses, unless `no_sandbox`,
   which is said and recorded as `"sandbox": "none (--no-sandbox)"` in every record);
4. turns what was recorded into a status and a reason (`course.grading.status.judge`) and keeps
   the records in autograded/.course-grading/<assignment>.json.

An earlier grade is never lost: the previous autograded folder is set aside during a regrade
and put back if the regrade fails, the gradebook's rows are updated, never deleted, and manual
scores stay; the "needs manual grade" flags the instructor had cleared stay cleared on a forced
rerun of an unchanged submission, and, on a resubmission, for every written answer whose text
did not change.
"""
from __future__ import annotations

import copy
import functools
import json
import logging
import os
import re
import shutil
import time
import warnings
from pathlib import Path

from . import config as course_config
from . import sandbox, status, workers


# -- the nbgrader plug-ins the course uses (nbgrader_config.py installs them too) --------------------
def sanitize_preprocessors():
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteKernelspec

    from .restore import ReportingOverwriteCells, RestoreCells

    return [ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreCells, ReportingOverwriteCells,
            CheckCellMetadata]


def autograde_preprocessors():
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from .execute import CourseExecute

    return [CourseExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
            AssignLatePenalties, CheckCellMetadata]


def _converter_class():
    from nbgrader.converters import Autograde

    class CourseAutograde(Autograde):
        """nbgrader's Autograde, keeping what the course's preprocessors recorded per notebook."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.records: dict[str, dict] = {}
            # the course's plug-ins unless nbgrader_config.py names others
            if "sanitize_preprocessors" not in self.config.Autograde:
                self.sanitize_preprocessors = sanitize_preprocessors()
            if "autograde_preprocessors" not in self.config.Autograde:
                self.autograde_preprocessors = autograde_preprocessors()

        def write_single_notebook(self, output, resources):
            found = resources.get("course_grading") or {}
            mine = self.records.setdefault(resources["nbgrader"]["notebook"], {"events": [], "findings": []})
            mine["events"] += found.get("events", [])
            mine["findings"] += found.get("findings", [])
            super().write_single_notebook(output, resources)

    return CourseAutograde


# -- settings ------------------------------------------------------------------------------------------
def limits(config) -> dict:
    """The time and memory limits in force (nbgrader_config.py, or the defaults)."""
    from .execute import CourseExecute

    probe = CourseExecute(config=config)
    return {"cell_timeout": probe.timeout, "notebook_timeout": probe.notebook_timeout,
            "memory_limit_mb": probe.memory_limit_mb, "file_size_limit_mb": probe.file_size_limit_mb,
            "sandbox": probe.sandbox, "max_processes": probe.max_processes, "work_folder_mb": probe.work_folder_mb,
            "judge_outside": probe.judge_outside, "max_output_cell_kb": probe.max_output_cell_kb,
            "max_output_notebook_kb": probe.max_output_notebook_kb}


NO_SANDBOX_WARNING = ("WARNING: grading WITHOUT a sandbox (--no-sandbox): student code runs as you, with your "
                      "files, network and processes; it could change the gradebook, read the hidden tests or "
                      "your secrets. Recorded in the status and the export. Use it only for submissions you trust.")


def sandbox_label(mode: str) -> str:
    """What the status and the export say about where student code ran."""
    if mode == "none":
        return "none (--no-sandbox)"
    ok, what = sandbox.available()
    return what if ok else "unavailable"


@functools.lru_cache(maxsize=4)
def _config(root: str):
    return course_config.load(root)


# -- one submission (runs in a worker) -------------------------------------------------------------
def _submission(gb, assignment: str, student: str):
    """The gradebook's record of one submission, or None when there is none yet."""
    from nbgrader.api import MissingEntry

    try:
        return gb.find_submission(assignment, student)
    except MissingEntry:
        return None


def _manual_state(config, assignment: str, student: str) -> dict:
    with course_config.gradebook(config) as gb:
        submission = _submission(gb, assignment, student)
        if submission is None:
            return {}
        return {f"{nb.name}/{g.name}": {"manual_score": g.manual_score, "needs_manual_grade": g.needs_manual_grade}
                for nb in submission.notebooks for g in nb.grades}


def _answers(folder: Path) -> dict[str, str]:
    """"notebook/grade_id" -> text of every answer cell of the graded notebooks in `folder`."""
    import nbformat

    found = {}
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - an unreadable earlier result just means "changed"
            continue
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") and meta.get("grade_id"):
                found[f"{path.stem}/{meta['grade_id']}"] = cell.get("source", "").strip()
    return found


def _keep_cleared_flags(config, assignment: str, student: str, before: dict, same: set[str] | None = None) -> int:
    """After a regrade, clear again the flags the instructor had cleared: for every cell of an
    unchanged submission (`same` is None), or for the answers in `same` (their text did not change)."""
    kept = 0
    with course_config.gradebook(config) as gb:
        submission = gb.find_submission(assignment, student)
        for nb in submission.notebooks:
            for grade in nb.grades:
                key = f"{nb.name}/{grade.name}"
                old = before.get(key)
                if old and old["manual_score"] is not None and not old["needs_manual_grade"] \
                        and (same is None or key in same) \
                        and grade.manual_score == old["manual_score"] and grade.needs_manual_grade:
                    grade.needs_manual_grade = False
                    kept += 1
        gb.db.commit()
    return kept


def scores(config, assignment: str, student: str) -> dict:
    """The gradebook's totals for one submission (empty when there is none)."""
    with course_config.gradebook(config) as gb:
        submission = _submission(gb, assignment, student)
        if submission is None:
            return {}
        grades = [g for nb in submission.notebooks for g in nb.grades]
        return {"score": submission.score, "max_score": submission.max_score,
                "auto_score": sum(g.auto_score or 0 for g in grades),
                "auto_max": sum(g.max_score for g in grades if g.cell_type == "code"),
                "to_grade_by_hand": sum(g.max_score for g in grades if g.needs_manual_grade)}


def grade_one(job: dict) -> dict:
    """Grade one student's submission with nbgrader; return its status record."""
    from nbgrader.utils import temp_attrs

    warnings.filterwarnings("ignore", module="sqlalchemy")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    root, assignment, student = job["root"], job["assignment"], job["student"]
    config = _config(root)
    if job.get("sandbox") and job["sandbox"] != config.CourseExecute.get("sandbox", "bwrap"):
        config = copy.deepcopy(config)
        config.CourseExecute.sandbox = job["sandbox"]
    course = course_config.coursedir(config)
    dest = Path(course.format_path(course.autograded_directory, student, assignment))
    aside = dest.parent / f".{assignment}.previous"
    before = _manual_state(config, assignment, student)
    answers_before = _answers(dest)

    log = logging.getLogger(f"course.grading.autograde.{os.getpid()}")
    log.propagate = False
    log.setLevel(logging.INFO)
    buffer = _Buffer()
    log.handlers = [buffer]

    if aside.exists():
        shutil.rmtree(aside)
    if dest.exists():
        dest.rename(aside)
    converter = _converter_class()(coursedir=course, config=config)
    converter.log = log
    converter.force = True
    converter.create_student = True
    started = time.monotonic()
    error = None
    try:
        with temp_attrs(course, assignment_id=assignment, student_id=student):
            converter.start()
    except Exception as err:  # nbgrader reports per-submission failures as NbGraderException
        error = buffer.errors() or f"{type(err).__name__}: {err}"
    if error is None:
        shutil.rmtree(aside, ignore_errors=True)
    else:  # put the earlier result back: an earlier grade is never lost
        if dest.exists():
            shutil.rmtree(dest)
        if aside.exists():
            aside.rename(dest)

    events = [e for rec in converter.records.values() for e in rec["events"]]
    findings = [f for rec in converter.records.values() for f in rec["findings"]]
    if error is None:
        state, reason = status.judge(events, findings, job["limits"])
        if job.get("unchanged_rerun"):
            _keep_cleared_flags(config, assignment, student, before)
        else:  # a resubmission: a written answer whose text did not change keeps its hand grade
            after = _answers(dest)
            same = {key for key, text in after.items() if answers_before.get(key) == text}
            if same:
                _keep_cleared_flags(config, assignment, student, before, same)
    else:
        state, reason = "error", f"nbgrader could not grade it: {error}" + (
            "; the earlier grade is kept" if dest.exists() else "")
    return {"student": student, "status": state, "reason": reason, "events": events, "findings": findings,
            "seconds": round(time.monotonic() - started, 2), **scores(config, assignment, student)}


class _Buffer(logging.Handler):
    """Keeps the log of one grading run, to quote its errors."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def errors(self) -> str:
        lines = [r.getMessage() for r in self.records if r.levelno >= logging.ERROR]
        useful = [line.strip().splitlines()[-1] for line in lines
                  if line.strip() and "Please see" not in line and "There was an error" not in line]
        return useful[-1] if useful else ""


# -- checks before grading -------------------------------------------------------------------------
def precheck(folder: Path, notebooks: list[str]) -> tuple[str, str] | None:
    """'missing' or 'not a notebook' (with the reason) when a submission cannot be run; else None."""
    import nbformat

    if not folder.is_dir():
        return "missing", "no submission folder"
    found = sorted(p.name for p in folder.glob("*.ipynb"))
    for name in notebooks:
        file = folder / f"{name}.ipynb"
        if not file.is_file():
            seen = f" (found: {', '.join(found)})" if found else " (no notebook in the folder)"
            return "missing", f"no {name}.ipynb in the submission{seen}"
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            return "not a notebook", f"{name}.ipynb is not text ({err.reason})"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            what = re.sub(r"\s+(starting )?at$", "", err.msg)
            return "not a notebook", f"{name}.ipynb is not valid JSON ({what}, line {err.lineno}, column " \
                                     f"{err.colno}); it was probably damaged or cut short on upload"
        try:
            nb = nbformat.reads(json.dumps(data), as_version=4)
            nbformat.validate(nb)
        except Exception as err:  # nbformat raises several kinds
            first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
            return "not a notebook", f"{name}.ipynb is JSON but not a Jupyter notebook ({first})"
    return None


# -- the batch -------------------------------------------------------------------------------------
def _students(course, assignment: str, gb) -> list[str]:
    submitted = Path(course.format_path(course.submitted_directory, "*", assignment)).parent.parent
    found = {p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()}
    roster = {s.id for s in gb.students}
    return sorted(found | roster)


def run(root, assignment: str, students: list[str] | None = None, workers_count: int | None = None,
        force: bool = False, echo=print, no_sandbox: bool = False) -> dict[str, dict]:
    from nbgrader.api import MissingEntry

    root = str(Path(root).resolve())
    config = course_config.load(root)
    if no_sandbox:
        config.CourseExecute.sandbox = "none"
    course = course_config.coursedir(config)
    database = course_config.database_file(config)
    if database is not None and not database.is_file():
        raise SystemExit(f"course grade: no gradebook yet ({database.name}); run "
                         f"`course grade generate {assignment}` first")
    with course_config.gradebook(config) as gb:
        try:
            notebooks = sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            raise SystemExit(f"course grade: assignment {assignment!r} is not in the gradebook; run "
                             f"`course grade generate {assignment}` first") from None
        everyone = _students(course, assignment, gb)
    wanted = [s for s in everyone if not students or s in students]
    unknown = sorted(set(students or []) - set(everyone))
    if unknown:
        echo(f"no submission and not on the roster: {', '.join(unknown)}")
    settings = limits(config)
    if settings["sandbox"] == "bwrap":
        ok, why = sandbox.available()
        if not ok:
            raise SystemExit(f"course grade: refusing to run student code without a sandbox: {why}")
    else:
        echo(NO_SANDBOX_WARNING)
    label = sandbox_label(settings["sandbox"])
    autograded = Path(course.format_path(course.autograded_directory, ".", ".")).resolve()
    records = status.read(autograded, assignment)
    source_dir = Path(course.format_path(course.source_directory, ".", assignment))

    jobs, early, unchanged = [], [], []
    for student in wanted:
        folder = Path(course.format_path(course.submitted_directory, student, assignment))
        fingerprint = status.fingerprint(folder, source_dir, settings)
        old = records.get(student, {})
        graded_before = Path(course.format_path(course.autograded_directory, student, assignment)).is_dir()
        if not force and old.get("fingerprint") == fingerprint and (
                graded_before or old.get("status") in ("missing", "not a notebook")):
            unchanged.append(student)
            continue
        problem = precheck(folder, notebooks)
        if problem:
            kept = " An earlier grade of this student is kept in the gradebook." if graded_before else ""
            records[student] = {"student": student, "status": problem[0], "reason": problem[1] + kept,
                                "fingerprint": fingerprint, "sandbox": label, "graded_at": status.now(), "seconds": 0.0,
                                "events": [], "findings": [], **scores(config, assignment, student)}
            early.append(student)
            continue
        jobs.append({"root": root, "assignment": assignment, "student": student, "limits": settings,
                     "fingerprint": fingerprint, "sandbox": settings["sandbox"],
                     "unchanged_rerun": old.get("fingerprint") == fingerprint and graded_before})
    if early:
        status.write(autograded, assignment, records)
        with course_config.gradebook(config) as gb:  # on the roster, so formgrader and export list them
            for student in early:
                gb.update_or_create_student(student)

    count = max(1, min(workers_count or workers.default_workers(), len(jobs) or 1))
    grading = f"{len(jobs)} to grade with {count} worker(s)" if jobs else "0 to grade"
    echo(f"{assignment}: {len(wanted)} submission(s): {grading}, {len(early)} that cannot be run, "
         f"{len(unchanged)} unchanged since their last grading (skipped; --force regrades them)")
    for student in early:
        echo(f"  {student:<20} {records[student]['status']:<15} {records[student]['reason']}")
    done = [0]

    def arrived(job, result):
        done[0] += 1
        student = job["student"]
        result = {"student": student, "fingerprint": job["fingerprint"], "graded_at": status.now(),
                  "sandbox": label, **result}
        records[student] = result
        status.write(autograded, assignment, records)
        echo(f"[{done[0]:>{len(str(len(jobs)))}}/{len(jobs)}] {student:<20} {_line(result)}")

    hard = (settings["notebook_timeout"] or 3600) + 120
    workers.run(jobs, grade_one, workers=count, hard_timeout=hard, on_result=arrived)
    summary = {}
    for student in wanted:
        if student in records:
            summary[records[student]["status"]] = summary.get(records[student]["status"], 0) + 1
    ordered = sorted(summary.items(), key=lambda item: status.STATUSES.index(item[0]))
    echo("statuses: " + ", ".join(f"{n} {s}" for s, n in ordered))
    return {s: records[s] for s in wanted if s in records}


def _line(result: dict) -> str:
    text = f"{result['status']:<15}"
    if "auto_score" in result:
        text += f" auto {result['auto_score']:g}/{result['auto_max']:g}"
        if result.get("to_grade_by_hand"):
            text += f", {result['to_grade_by_hand']:g} pt to grade by hand"
    text += f"  {result.get('seconds', 0):.1f} s"
    if result.get("reason"):
        text += f"\n{'':24}{result['reason']}"
    return text
