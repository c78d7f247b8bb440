"""Keep hidden tests out of the feedback students receive.

nbgrader 0.9.6 makes feedback from the autograded notebook, in which the hidden tests have been
put back, so the HTML shows students every hidden test, and the tracebacks of failed tests quote
them line by line. `HideHiddenTests` runs in `GenerateFeedback` (see nbgrader_config.py): in
every test cell that has a hidden-test region it removes the region from the code and keeps
only one line per error ("AssertionError: <message>"), dropping printed output and tracebacks.
The course's test messages say what is wrong without giving the answer, so that line is the
feedback. `leaks(html, hidden_lines)` lets the `course grade feedback` command check the result.
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
