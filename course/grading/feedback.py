"""Keep hidden tests out of the feedback students receive.

nbgrader 0.9.6 makes feedback from the autograded notebook, in which the hidden tests have been
put back, so the HTML shows students every hidden test, and the tracebacks of failed tests quote
them line by line. `HideHiddenTests` runs in `GenerateFeedback` (see nbgrader_config.py): in
every test cell that has a hidden-test region it removes the region from the code and keeps
only one line per error ("AssertionError: <message>"), dropping printed output and tracebacks.
The course's test messages say what is wrong without giving the answer, so that line is the
feedback. `leaks(html, hidden_lines)` lets the `course grade feedback` command check the result.

A written answer still waiting for hand grading is never shown as a score. `run()` (the
`course grade feedback` command) writes no page for a student with such an answer, lists them,
and removes their earlier page (it showed a score that is no longer final); with `--force` it
writes their pages, and `NotGradedYet` marks the waiting answers "not graded yet" and makes the
page's score count only the points graded so far. `NotGradedYet` also gives tables in the page
the spacing that nbgrader's feedback template leaves out.
"""
from __future__ import annotations

import html as _html
import re

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer, List

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def hidden_test_clearer(configurable) -> ClearHiddenTests:
    """nbgrader's ClearHiddenTests with the delimiters configured for `configurable`'s course.

    (Made without a parent: as a child of an exporter it would warn about options it ignores.)"""
    clearer = ClearHiddenTests()
    section = configurable.config.get("ClearHiddenTests", {}) if configurable is not None else {}
    for name in ("begin_test_delimeter", "end_test_delimeter"):
        if name in section:
            setattr(clearer, name, section[name])
    return clearer


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests, and the output that could quote them, from test cells."""

    # declared configurable, as in nbgrader's GetGrades, so the HTML exporter's setting is accepted
    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb, resources):
        self._clearer = hidden_test_clearer(self)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        if not self._clearer._remove_hidden_test_region(cell):
            return cell, resources
        cell.outputs = [self._one_line(out) for out in cell.get("outputs", []) if out.output_type == "error"]
        return cell, resources

    @staticmethod
    def _one_line(output) -> NotebookNode:
        ename = ANSI.sub("", str(output.get("ename", "Error")))
        evalue = ANSI.sub("", str(output.get("evalue", "")))
        line = f"{ename}: {evalue}" if evalue else ename
        return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[line])


class CapOutputs(NbGraderPreprocessor):
    """Cap the outputs shown in a feedback page (per cell and per page), with a line saying what was cut.

    The autograded notebook is capped already when `course grade autograde` made it; this also
    covers notebooks graded some other way."""

    max_output_cell_kb = Integer(1024, help="Output shown per cell, KB of text.").tag(config=True)
    max_output_notebook_kb = Integer(4096, help="Output shown per page, KB of text.").tag(config=True)
    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb, resources):
        from .execute import cap_outputs, output_size

        used = 0
        for cell in nb.cells:
            if cell.cell_type != "code" or not cell.get("outputs"):
                continue
            left = max(0, self.max_output_notebook_kb * 1024 - used)
            budget = min(self.max_output_cell_kb * 1024, left)
            what = f"the limit is {self.max_output_cell_kb} KB per cell" if budget < left \
                else f"the page reached its limit of {self.max_output_notebook_kb} KB"
            cell.outputs, _ = cap_outputs(cell.outputs, budget, what)
            used += sum(output_size(o) for o in cell.outputs)
        return nb, resources


def hidden_lines(source: str, begin: str = "BEGIN HIDDEN TESTS", end: str = "END HIDDEN TESTS") -> list[str]:
    """The non-blank lines of a cell's hidden-test regions."""
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def leaks(page: str, lines: list[str]) -> list[str]:
    """The hidden-test lines that can be read in a feedback page (HTML, with tags removed)."""
    text = _html.unescape(re.sub(r"<[^>]+>", "", page))
    text = re.sub(r"[ \t]+", " ", text)
    return [line for line in lines if re.sub(r"[ \t]+", " ", line) in text]


# -- answers still waiting for hand grading ---------------------------------------------------------
# nbgrader's feedback template drops the notebook stylesheet, so a Markdown table's cells run
# together ("Written answerwhy a preamble..."); this restores plain table spacing.
TABLE_CSS = """
.rendered_html table { border-collapse: collapse; margin: 0.6em 0 1em; }
.rendered_html th, .rendered_html td { padding: 0.25em 0.9em; border: 1px solid #cfcfcf; text-align: left;
  vertical-align: top; }
.rendered_html thead th { background: #f4f4f4; }
"""
NOT_GRADED_YET = "Not graded yet"


class NotGradedYet(NbGraderPreprocessor):
    """After GetGrades: a cell still waiting for hand grading shows no score, but "Not graded yet";
    the page's score counts only what has been graded, and a note at the top says so."""

    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources.setdefault("nbgrader", {})
        inlining = resources.setdefault("inlining", {})
        if TABLE_CSS not in inlining.get("css", []):
            inlining["css"] = [*inlining.get("css", []), TABLE_CSS]
        if not info.get("db_url"):
            return nb, resources
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            waiting = {g.name: (float(g.max_score or 0), float(g.score or 0)) for g in notebook.grades
                       if g.needs_manual_grade}
        if not waiting:
            return nb, resources
        kinds = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade = waiting.get(meta.get("grade_id")) if utils.is_grade(cell) else None
            if grade is None:
                continue
            written = cell.cell_type == "markdown"
            kinds.append("written answer" if written else "answer")
            note = (f"**{NOT_GRADED_YET}.** Your instructor grades this answer by hand "
                    f"({grade[0]:g} points); its score is not part of this page's score yet.")
            meta["grade"] = False  # the template then shows neither a score nor a Test/Written-response line
            meta["score"] = None
            meta["comment"] = note  # any earlier comment belonged to an earlier grading
            if not written:
                cell.outputs = [*cell.get("outputs", []),
                                NotebookNode(output_type="stream", name="stdout", text=note.replace("**", "") + "\n")]
        left = sum(most for most, _ in waiting.values())
        counted = sum(score for _, score in waiting.values())
        info["score"] = max(0.0, info.get("score", 0.0) - counted)
        info["max_score"] = info.get("max_score", 0.0) - left
        what = kinds[0] if len(set(kinds)) == 1 and len(kinds) == 1 else f"{len(kinds)} answers"
        banner = NotebookNode(cell_type="markdown", metadata={}, id="course-not-graded-yet", source=(
            f"**{NOT_GRADED_YET}: this feedback is not final.** Your {what} ({left:g} points) "
            f"{'is' if len(kinds) == 1 else 'are'} still to be graded by hand. The score at the top of this "
            f"page counts only the {info['max_score']:g} points graded so far."))
        nb.cells.insert(0, banner)
        return nb, resources


def run(root, assignment: str, students: list[str] | None, force: bool) -> int:
    """`course grade feedback`: one page per graded student, without hidden tests and without
    answers that are still to be graded presented as scores (see the module's docstring)."""
    import sys
    from pathlib import Path

    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import GetGrades
    from nbgrader.utils import temp_attrs

    from . import config as course_config
    from . import status
    from .cli import _in, _quiet_nbgrader_log

    root = Path(root)
    config = course_config.load(root)
    course = course_config.coursedir(config)
    waiting = status.hand_grading(config, assignment)
    folder = Path(course.format_path(course.feedback_directory, "*", assignment)).parent.parent

    def page_of(student):
        return sorted((folder / student / assignment).glob("*.html"))

    chosen = set(students) if students else None
    waiting = {s: cells for s, cells in waiting.items() if chosen is None or s in chosen}
    earlier = {s for s in waiting if page_of(s)}
    for student in students or ["*"]:
        app = _quiet_nbgrader_log(GenerateFeedback(coursedir=course, config=config), "ERROR")
        if "preprocessors" not in config.GenerateFeedback:
            app.preprocessors = [GetGrades, HideHiddenTests, CapOutputs, CSSHTMLHeaderPreprocessor]
        if NotGradedYet not in app.preprocessors:  # after GetGrades, whatever nbgrader_config.py lists
            app.preprocessors = [*app.preprocessors, NotGradedYet]
        app.force = True
        with temp_attrs(course, assignment_id=assignment, student_id=student), _in(root):
            try:
                app.start()
            except Exception as err:  # noqa: BLE001
                print(f"course grade: feedback for {student}: {err}", file=sys.stderr)
                return 1
    skipped = []
    if not force:
        for student in sorted(waiting):
            for page in page_of(student):
                page.unlink()
            skipped.append(student)
    with course_config.gradebook(config) as gb:
        secret = [line for nb in gb.find_assignment(assignment).notebooks
                  for cell in nb.source_cells for line in hidden_lines(cell.source or "")]
    pages = sorted(folder.glob(f"*/{assignment}/*.html"))
    bad, made = [], 0
    for page in pages:
        if chosen is not None and page.parent.parent.name not in chosen:
            continue
        made += 1
        shown = leaks(page.read_text(encoding="utf-8", errors="replace"), secret)
        if shown:
            bad.append(page)
            page.unlink()
            print(f"course grade: {page.relative_to(root)} showed hidden tests ({shown[0]!r}); deleted",
                  file=sys.stderr)
    where = f"{course.feedback_directory}/<student>/{assignment}/"
    if bad:
        print(f"{assignment}: {made - len(bad)} feedback page(s) in {where}; {len(bad)} other page(s) showed "
              f"hidden tests and were deleted (see above): fix and rerun")
    else:
        print(f"{assignment}: {made} feedback page(s) in {where}, checked: no hidden test in any of them")
    if skipped:
        print(f"  no page for {len(skipped)} student(s) with answers still to grade by hand: "
              f"{status.describe(waiting, skipped)}")
        removed = sorted(earlier & set(skipped))
        if removed:
            print(f"  their earlier page was removed ({', '.join(removed)}): it showed a score that is no longer final")
        print("  grade them in Formgrader and run this again; --force writes their pages now, "
              f"with those answers marked \"{NOT_GRADED_YET}\"")
    elif force and waiting:
        print(f"  --force: {len(waiting)} page(s) are provisional, with answers marked \"{NOT_GRADED_YET}\" "
              f"and a score counting only what is graded: {status.describe(waiting)}")
    return 1 if bad else 0
