"""`course grade report ASSIGNMENT`: what the class got right and wrong, after autograding.

Read from the gradebook (each task's score, through nbgrader's API, as `course grade export`
reads it) and from the autograded notebooks: every test cell of the course's assignments keeps,
in its hidden part, a copy of the student's answer as JSON (`course.grading.values.dump`, the
same format that carries answers out of the sandbox). The report never runs a student's code:
it only decodes that JSON into plain values.

Each assignment declares the known mistakes of its autograded tasks in
`exercises/<assignment>.mistakes.yaml` (beside the rubric; the assignment's folder is nbgrader's):
for each test cell, the variable it reads, how it compares, and for each mistake a piece of code
that produces the wrong value on the course data (the instructor's code, run here), a message
and a "what to reteach" line. A wrong answer equal to a mistake's value is counted under it.

Written to `reports/<assignment>/` in the course folder:

- `scores.csv`: one row per student id (ids, never names), each task's score and what the answer
  was (`right`, a mistake's id, `other wrong answer`, `no answer`, `not run`), and the total;
- `scores.png`: the distribution of total scores and, per autograded task, the share of students
  who got it right or made each known mistake (no student is named);
- `report.md`: the same as the text printed: per task, the share right and the most common known
  mistakes with their counts and what to reteach.
"""
from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from . import config as course_config
from . import export, values

RIGHT, OTHER, NO_ANSWER, NOT_RUN = "right", "other wrong answer", "no answer", "not run"
NOT_GRADED_STATUSES = ("missing", "not a notebook")


class MistakesError(ValueError):
    """A mistakes file is malformed: the message names the file and the field."""


# -- the known mistakes ----------------------------------------------------------------------------------
def mistakes_path(root: Path, assignment: str) -> Path:
    course = course_config.coursedir(course_config.load(root))
    source = Path(course.format_path(course.source_directory, ".", ".")).resolve()
    return source / f"{assignment}.mistakes.yaml"


def load_mistakes(path: Path) -> dict:
    """The mistakes file, checked: {'setup': str, 'tasks': {grade_id: {...}}}."""
    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise MistakesError(f"{path}: cannot be read ({err.strerror})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("tasks"), dict):
        raise MistakesError(f"{path}: needs a mapping `tasks:` (grade_id of a test cell -> its mistakes)")
    from ..checks import compare

    for gid, task in spec["tasks"].items():
        where = f"{Path(path).name}, task {gid}"
        for key in ("variable", "kind", "mistakes"):
            if key not in task:
                raise MistakesError(f"{where}: field {key!r} is missing")
        if not callable(getattr(compare, task["kind"], None)):
            raise MistakesError(f"{where}: kind {task['kind']!r} is not a comparison of course.checks.compare")
        for pos, mistake in enumerate(task["mistakes"], start=1):
            for key in ("id", "code", "message", "reteach"):
                if not isinstance(mistake.get(key), str):
                    raise MistakesError(f"{where}, mistake {pos}: field {key!r} (text) is missing")
    return spec


def mistake_values(spec: dict) -> dict[str, list[tuple[dict, object]]]:
    """{grade_id: [(mistake, its value on the course data)]}, by running the mistakes' code
    (instructor's code from the mistakes file, never a student's)."""
    found: dict[str, list[tuple[dict, object]]] = {}
    for gid, task in spec["tasks"].items():
        found[gid] = []
        for mistake in task["mistakes"]:
            namespace: dict = {}
            exec(compile(spec.get("setup", ""), "<mistakes setup>", "exec"), namespace)  # noqa: S102 - instructor's file
            exec(compile(mistake["code"], f"<mistake {gid}/{mistake['id']}>", "exec"), namespace)  # noqa: S102
            if task["variable"] not in namespace:
                raise MistakesError(f"task {gid}, mistake {mistake['id']}: its code does not set {task['variable']!r}")
            found[gid].append((mistake, namespace[task["variable"]]))
    return found


def matches(got, wrong, task: dict) -> bool:
    from ..checks import compare

    try:
        return getattr(compare, task["kind"])(got, wrong, **(task.get("options") or {})) is None
    except Exception:  # noqa: BLE001 - an answer of another shape simply does not match
        return False


# -- the answers, from the autograded notebooks --------------------------------------------------------------
class _Missing:
    pass


MISSING, UNRECORDED = _Missing(), _Missing()


def answers(nb, tasks: dict) -> dict[str, object]:
    """{grade_id: the student's value, MISSING (no such variable) or UNRECORDED (no copy kept)}."""
    found: dict[str, object] = {gid: UNRECORDED for gid in tasks}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or gid not in tasks:
            continue
        name = tasks[gid]["variable"]
        for out in cell.get("outputs", []):
            text = (out.get("data") or {}).get(values.MIME)
            if out.get("output_type") != "display_data" or not isinstance(text, str):
                continue
            try:
                data = json.loads(text)[name]
                found[gid] = values.decode(data, name)
            except KeyError:
                found[gid] = MISSING
            except (ValueError, TypeError):
                found[gid] = UNRECORDED
    return found


def classify(value, gid: str, task: dict, wrong_values: list[tuple[dict, object]]) -> str:
    if value is MISSING or value is None or value is Ellipsis:
        return NO_ANSWER
    if value is UNRECORDED:
        return NOT_RUN
    for mistake, wrong in wrong_values:
        if matches(value, wrong, task):
            return mistake["id"]
    return OTHER


# -- the report ----------------------------------------------------------------------------------------------
@dataclass
class Task:
    gid: str
    points: float
    graded_by_hand: bool
    scores: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    mistakes: list[dict] = field(default_factory=list)


@dataclass
class Report:
    assignment: str
    max_score: float
    tasks: list[Task]
    rows: list[dict]
    not_graded: int

    @property
    def graded(self) -> list[dict]:
        return [r for r in self.rows if r["status"] not in NOT_GRADED_STATUSES]


def _float(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def build(root: Path, assignment: str, progress=None) -> Report:
    """Read the gradebook and the autograded notebooks of `assignment` (progress: a callable for lines)."""
    progress = progress or (lambda line: None)
    root = Path(root).resolve()
    config = course_config.load(root)
    course = course_config.coursedir(config)
    spec = load_mistakes(mistakes_path(root, assignment))
    wrong = mistake_values(spec)

    header, rows = export.rows(config, [assignment])
    with course_config.gradebook(config) as gb:
        record = gb.find_assignment(assignment)
        cells = {c.name: c for nb in record.notebooks for c in nb.grade_cells}
        max_score = float(record.max_score)
        order = [c for c in header if c in cells]
        tasks = [Task(gid, float(cells[gid].max_score), cells[gid].cell_type == "markdown",
                      mistakes=spec["tasks"].get(gid, {}).get("mistakes", [])) for gid in order]
    out_rows: list[dict] = []
    not_graded = 0
    total = len(rows)
    step = max(1, total // 20)
    for i, row in enumerate(rows, start=1):
        if i == 1 or i == total or i % step == 0:
            progress(f"[{i}/{total}] reading submissions")
        entry = {"student_id": row["student_id"], "status": row["status"], "score": _float(row["score"]) or 0.0}
        if row["status"] in NOT_GRADED_STATUSES:
            not_graded += 1
            for task in tasks:
                entry[task.gid] = ""
                entry[f"{task.gid}:answer"] = NOT_RUN
            out_rows.append(entry)
            continue
        folder = Path(course.format_path(course.autograded_directory, row["student_id"], assignment))
        found: dict[str, object] = {}
        for path in sorted(folder.glob("*.ipynb")):
            try:
                found.update({k: v for k, v in answers(nbformat.read(path, as_version=4), spec["tasks"]).items()
                              if v is not UNRECORDED or k not in found})
            except (OSError, ValueError):
                continue
        for task in tasks:
            score = _float(row.get(task.gid, ""))
            entry[task.gid] = "" if score is None else f"{score:g}"
            if score is not None:
                task.scores.append(score)
            if task.graded_by_hand:
                entry[f"{task.gid}:answer"] = "scored" if score is not None else "not graded yet"
                continue
            if score is not None and score >= task.points:
                outcome = RIGHT
            else:
                outcome = classify(found.get(task.gid, UNRECORDED), task.gid, spec["tasks"].get(task.gid, {}),
                                   wrong.get(task.gid, []))
            task.outcomes[outcome] += 1
            entry[f"{task.gid}:answer"] = outcome
        out_rows.append(entry)
    return Report(assignment, max_score, tasks, out_rows, not_graded)


def text(report: Report) -> str:
    """The report as Markdown (also what the command prints)."""
    graded = report.graded
    n = len(graded)
    lines = [f"# Class report: {report.assignment}", "",
             f"{n} graded submission(s)" + (f"; {report.not_graded} not graded (missing or not a notebook)"
                                             if report.not_graded else "") + ".", ""]
    if n:
        totals = sorted(r["score"] for r in graded)
        mid = totals[n // 2] if n % 2 else (totals[n // 2 - 1] + totals[n // 2]) / 2
        lines += [f"Total score: median {mid:g} of {report.max_score:g}, lowest {totals[0]:g}, "
                  f"highest {totals[-1]:g}.", ""]
    for task in report.tasks:
        if task.graded_by_hand:
            done = len(task.scores)
            mean = sum(task.scores) / done if done else 0
            lines += [f"## {task.gid} (written, {task.points:g} points, graded by hand)", "",
                      f"Scored: {done} of {n}" + (f"; mean {mean:.1f} of {task.points:g}" if done else "")
                      + (" (an untouched answer scores 0 by itself; grade the rest in Formgrader)."
                         if done < n else "."),
                      ""]
            if done:
                spread = Counter(task.scores)
                lines += ["Scores: " + ", ".join(f"{score:g} points: {spread[score]}"
                                                 for score in sorted(spread, reverse=True)) + ".", ""]
            continue
        right = task.outcomes[RIGHT]
        lines += [f"## {task.gid} ({task.points:g} points)", "",
                  f"Right: {right} of {n} ({100 * right / n:.0f} %)." if n else "Right: no graded submission.", ""]
        known = sorted(((task.outcomes[m["id"]], m) for m in task.mistakes if task.outcomes[m["id"]]),
                       key=lambda pair: -pair[0])
        if known:
            lines.append("Most common known mistakes:")
            lines.append("")
            for count, mistake in known:
                lines.append(f"- {count} of {n}: {mistake['message']}.")
                lines.append(f"  What to reteach: {mistake['reteach']}.")
            lines.append("")
        rest = [(task.outcomes[k], k) for k in (OTHER, NO_ANSWER, NOT_RUN) if task.outcomes[k]]
        if rest:
            lines += ["Other: " + "; ".join(f"{count} {kind}" for count, kind in rest) + ".", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_csv(report: Report, path: Path) -> None:
    columns = ["student_id", "status"]
    for task in report.tasks:
        columns += [task.gid, f"{task.gid}:answer"]
    columns.append("score")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in report.rows:
            writer.writerow({**row, "score": f"{row['score']:g}"})


def write_chart(report: Report, path: Path) -> None:
    """Two panels, no student named: the totals' distribution, and per task what the answers were."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    graded = report.graded
    auto = [t for t in report.tasks if not t.graded_by_hand]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1, 1.4]})
    totals = [r["score"] for r in graded]
    bins = range(0, int(report.max_score) + 2)
    left.hist(totals, bins=bins, color="#4c72b0", edgecolor="white", align="left")
    left.set_xlabel(f"total score (of {report.max_score:g})")
    left.set_ylabel("students")
    left.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    left.set_title(f"{report.assignment}: total scores ({len(graded)} graded)")
    n = max(1, len(graded))
    palette = ["#dd8452", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
    # each known mistake gets its own colour and pattern: 30 stay apart (assignment 01 lists 10),
    # and a reader who cannot tell the colours apart still sees the patterns
    styles = [(colour, hatch) for hatch in ("", "//", "..", "xx", "\\\\") for colour in palette]
    y = list(range(len(auto)))
    start = [0.0] * len(auto)
    kinds: list[tuple[str, str]] = [(RIGHT, "right")]
    for task in auto:
        kinds += [(m["id"], m["id"]) for m in task.mistakes if (m["id"], m["id"]) not in kinds]
    kinds += [(OTHER, OTHER), (NO_ANSWER, NO_ANSWER), (NOT_RUN, NOT_RUN)]
    colours = {RIGHT: "#55a868", OTHER: "#bbbbbb", NO_ANSWER: "#eeeeee", NOT_RUN: "#dddddd"}
    extra = iter(styles * 2)
    for key, label in kinds:
        shares = [100 * t.outcomes[key] / n for t in auto]
        if not any(shares):
            continue
        colour, hatch = (colours[key], "") if key in colours else next(extra)
        right.barh(y, shares, left=start, color=colour, hatch=hatch, edgecolor="white", label=label)
        start = [a + b for a, b in zip(start, shares)]
    right.set_yticks(y, [f"{t.gid} ({t.points:g} pt)" for t in auto])
    right.invert_yaxis()
    right.set_xlim(0, 100)
    right.set_xlabel("share of graded students (%)")
    right.set_title("autograded tasks: right answers and known mistakes")
    if right.containers:  # nobody graded: no bars, so no legend
        right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(root: Path, assignment: str, out: Path | None = None, stream=None) -> int:
    """The `report` verb: build, write the three files, print the summary."""
    stream = stream or sys.stdout
    root = Path(root).resolve()
    try:
        report = build(root, assignment, progress=lambda line: print(line, file=sys.stderr, flush=True))
    except MistakesError as err:
        print(f"course grade report: {err}", file=sys.stderr)
        return 2
    folder = Path(out) if out else root / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    summary = text(report)
    (folder / "report.md").write_text(summary, encoding="utf-8")
    write_csv(report, folder / "scores.csv")
    write_chart(report, folder / "scores.png")
    print(summary, file=stream, end="")
    shown = folder.relative_to(root) if folder.is_relative_to(root) else folder
    print(f"\nwrote {shown}/report.md, scores.csv (student ids, for you only) and scores.png (no names)",
          file=stream)
    return 0
