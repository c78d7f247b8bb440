"""What happened to each submission: its status, the reason, and a fingerprint for reruns.

Every submission of an assignment gets one record, kept in
`autograded/.course-grading/<assignment>.json` (inside nbgrader's generated autograded/ folder,
which nbgrader's own globs skip because the name starts with a dot):

    {"student": "alice", "status": "tampered", "reason": "...", "fingerprint": "...",
     "graded_at": "2026-...", "seconds": 3.1, "findings": [...], "events": [...]}

Statuses, from the worst down (a submission shows the worst that applies):
    not a notebook, missing, error, kernel died, timed out, tampered, graded.
`fingerprint` hashes the submitted files, the source notebooks and the time and memory limits,
so a rerun regrades only what changed and leaves everything else as it was.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

STATUSES = ("not a notebook", "missing", "error", "kernel died", "timed out", "tampered", "graded")
FOLDER = ".course-grading"


def worst(statuses) -> str:
    statuses = list(statuses) or ["graded"]
    return min(statuses, key=STATUSES.index)


def path(autograded_dir: str | os.PathLike, assignment: str) -> Path:
    return Path(autograded_dir) / FOLDER / f"{assignment}.json"


def read(autograded_dir, assignment: str) -> dict[str, dict]:
    file = path(autograded_dir, assignment)
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise RuntimeError(f"{file}: cannot read the grading records ({err}); move it aside and rerun "
                           "with --force to rebuild them") from err


def write(autograded_dir, assignment: str, records: dict[str, dict]) -> Path:
    """Write all records at once (atomically: a crash never leaves half a file)."""
    file = path(autograded_dir, assignment)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(records, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, file)
    return file


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %z")


def fingerprint(submission_dir: str | os.PathLike, source_dir: str | os.PathLike, settings: dict) -> str:
    """A hash of every submitted file, every source file and the grading settings."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for label, folder in (("submitted", submission_dir), ("source", source_dir)):
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for file in sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
            digest.update(f"{label}:{file.relative_to(folder).as_posix()}\0".encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _cells(items) -> str:
    names = sorted({item.get("cell", "?") for item in items})
    return ", ".join(names)


def judge(events: list[dict], findings: list[dict], limits: dict) -> tuple[str, str]:
    """The status and the reason of a graded submission, from what the run recorded."""
    reasons, statuses = [], []
    died = [e for e in events if e["kind"] == "kernel died"]
    stuck = [e for e in events if e["kind"] == "kernel unresponsive"]
    whole = [e for e in events if e["kind"] == "notebook timeout"]
    cell = [e for e in events if e["kind"] == "cell timeout"]
    if died:
        statuses.append("kernel died")
        log = died[0].get("log") or ""
        hint = " (memory limit reached?)" if "MemoryError" in log or "Killed" in log else ""
        reasons.append(f"the kernel died in cell {died[0]['cell']}{hint}; later cells were not run and score 0")
    if stuck:
        statuses.append("timed out")
        where = stuck[0]["cell"]
        if any(e["cell"] == where for e in cell):  # a loop that caught the interrupt: one reason, not two
            cell = [e for e in cell if e["cell"] != where]
            reasons.append(f"cell {where} ran longer than {limits.get('cell_timeout')} s and did not stop when "
                           "interrupted (it catches KeyboardInterrupt?), so the kernel was stopped; later cells "
                           "were not run and score 0")
        else:
            reasons.append(f"the kernel stopped answering in cell {where}; later cells were not run and score 0")
    if whole:
        statuses.append("timed out")
        reasons.append(f"the notebook used up its {limits.get('notebook_timeout')} s in cell "
                       f"{whole[0]['cell']}; cells after it were not run and score 0")
    if cell:
        statuses.append("timed out")
        reasons.append(f"cell {_cells(cell)} ran longer than {limits.get('cell_timeout')} s and was "
                       "stopped; the other cells were graded")
    judge_failed = [e for e in events if e["kind"] == "judge setup failed"]
    if judge_failed:
        statuses.append("error")
        reasons.append(f"the checks' own setup failed in cell {judge_failed[0]['cell']} "
                       f"({judge_failed[0].get('error', '')}); the scores are not reliable: fix it and regrade "
                       "with --force")
    modules = [e for e in events if e["kind"] == "missing module"]
    for event in [e for e in modules if e.get("judged")][:1]:
        statuses.append("error")
        reasons.append(f"the checks in cell {event['cell']} need the module {event['module']}, which is not "
                       "installed where grading runs; install it and regrade with --force")
    student_modules = [e for e in modules if not e.get("judged")]
    if student_modules:
        names = ", ".join(sorted({e["module"] for e in student_modules}))
        reasons.append(f"cell {_cells(student_modules)} imports {names}, which is not installed where grading "
                       "runs, so it failed there (the student may have it at home)")
    unreadable = [e for e in events if e["kind"] == "values unreadable"]
    if unreadable:
        reasons.append(f"the answers checked by {_cells(unreadable)} could not be read from the kernel "
                       f"({unreadable[0].get('why', '')}); those checks saw no answer")
    cut = [e for e in events if e["kind"] == "output cut"]
    if cut:
        reasons.append(f"note: output of cell {_cells(cut)} cut at the limit")
    serious = [f for f in findings if f.get("graded") or (f.get("locked") and f.get("cell_type") == "code")
               or (f["kind"] == "edited" and f.get("cell_type") == "code")]
    restored = [f for f in serious if f["kind"] == "cell restored"]
    stripped = [f for f in serious if f["kind"] == "metadata restored"]
    edited = [f for f in serious if f["kind"] == "edited"]
    other = [f for f in serious if f["kind"] not in ("cell restored", "metadata restored", "edited")]
    if restored:
        reasons.append(f"deleted cell(s) {_cells(restored)} put back from the source and graded")
    if stripped:
        reasons.append(f"nbgrader metadata missing from {_cells(stripped)}; restored from the source and graded")
    if edited:
        reasons.append(f"locked cell(s) {_cells(edited)} edited by the student; the original was used")
    if other:
        reasons.append("changed cell settings (" + "; ".join(f"{f['kind']} in {f['cell']}" for f in other)
                       + "); the source settings were used")
    if restored or stripped or edited or other:
        statuses.append("tampered")
    minor = [f for f in findings if f not in serious]
    if minor:
        kinds = sorted({f["kind"] for f in minor})
        reasons.append(f"note: {', '.join(kinds)} also for {len({f['cell'] for f in minor})} text or answer "
                       f"cell(s) ({_cells(minor)})")
    return worst(statuses), "; ".join(reasons)


# -- written answers (and other cells) still waiting for hand grading ------------------------------
def hand_grading(config, assignment: str) -> dict[str, list[tuple[str, float]]]:
    """The cells of each submission still waiting for hand grading: {student: [(grade id, points)]}.

    A cell waits when nbgrader marks it "needs manual grade": a written answer not graded yet, or
    one graded before whose text changed in a resubmission (the earlier hand score is kept for
    review, but it is not final). Students with nothing waiting are left out."""
    from nbgrader.api import MissingEntry

    from . import config as course_config

    waiting: dict[str, list[tuple[str, float]]] = {}
    with course_config.gradebook(config) as gb:
        try:
            submissions = gb.find_assignment(assignment).submissions
        except MissingEntry:
            return waiting
        for submission in submissions:
            cells = [(g.name, float(g.max_score or 0)) for nb in submission.notebooks for g in nb.grades
                     if g.needs_manual_grade]
            if cells:
                waiting[submission.student_id] = cells
    return waiting


def points(cells: list[tuple[str, float]]) -> float:
    return sum(p for _, p in cells)


def describe(waiting: dict[str, list[tuple[str, float]]], students=None) -> str:
    """'garciamaria (written_q4, 16 pt), smithjane (written_q4, 16 pt)'"""
    chosen = sorted(s for s in waiting if students is None or s in students)
    return ", ".join(f"{s} ({', '.join(gid for gid, _ in waiting[s])}, {points(waiting[s]):g} pt)" for s in chosen)


def table(config, assignment: str, records: dict[str, dict]) -> list[str]:
    """The lines `course grade status` prints: one per submission, then a summary line.

    The student column is as wide as the longest id, so long ids never push the others out of line."""
    from collections import Counter

    from .autograde import scores

    waiting = hand_grading(config, assignment)
    width = max([len("student"), *map(len, records)]) + 1
    lines = [f"{'student':<{width}} {'status':<15} {'score':>7}  reason"]
    for student in sorted(records):
        rec = records[student]
        now = scores(config, assignment, student) if rec["status"] not in ("missing", "not a notebook") \
            or "earlier grade" in (rec.get("reason") or "") else {}
        score = f"{now['score']:g}/{now['max_score']:g}" if now else "-"
        reason = [rec.get("reason") or ""]
        if student in waiting and now:  # the score is not final until these are graded
            reason.insert(0, f"to grade by hand: {points(waiting[student]):g} pt")
        lines.append(f"{student:<{width}} {rec['status']:<15} {score:>7}  {'; '.join(r for r in reason if r)}")
    counts = Counter(rec["status"] for rec in records.values())
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    pending = {s: cells for s, cells in waiting.items() if s in records}
    if pending:
        total = sum(points(cells) for cells in pending.values())
        summary += (f"; to grade by hand: {len(pending)} submission(s), {total:g} pt (their scores are not final;"
                    " grade them in Formgrader)")
    else:
        summary += "; to grade by hand: none"
    lines.append(f"statuses: {summary}")
    return lines
