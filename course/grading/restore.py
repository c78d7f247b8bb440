"""Put a submission's test cells back the way the instructor wrote them, and say only what changed.

Two preprocessors for the sanitizing step of nbgrader's `Autograde` (see nbgrader_config.py):

`RestoreCells` (runs before `OverwriteCells`). nbgrader 0.9.6 finds test cells only by their
nbgrader metadata, so a deleted test cell, or one whose metadata was stripped (a copy into a new
notebook, a metadata-cleaning tool), is silently scored 0 or "needs manual grade". This
preprocessor compares the submission with the gradebook's record of the source notebook and:
- gives a cell without nbgrader metadata its metadata back when its cell id (or, for a locked
  cell, its released text) matches a source cell that is missing from the submission;
- inserts every locked or graded source cell that is still missing, after the source cell that
  precedes it, with the source text (hidden tests included).

`ReportingOverwriteCells` (replaces `OverwriteCells`). nbgrader stores a test cell's checksum
before it removes the hidden tests, so every released test cell with hidden tests looks
"changed" (nbgrader issue #1961) and real tampering drowns in false warnings. This subclass
compares a locked cell with its released form (hidden tests removed) and reports a change only
when the student's text differs from it. Either way the cell is overwritten with the source.

Both write what they found to `resources["course_grading"]["findings"]`.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells


def finding(resources: dict, kind: str, cell: str, log=None, **details) -> None:
    """Record what was found; also log it when it matters (a graded or a locked code cell)."""
    resources.setdefault("course_grading", {}).setdefault("findings", []).append(
        {"kind": kind, "cell": cell, **details})
    if log is not None and (details.get("graded") or (details.get("locked") and details.get("cell_type") == "code")):
        log.warning("Cell %s: %s (from the source)", cell, kind)


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def released_text(source: str, parent=None) -> str:
    """A source cell's text as students received it: the hidden-test region removed."""
    from .feedback import hidden_test_clearer

    clearer = hidden_test_clearer(parent)
    cell = NotebookNode(cell_type="code", source=source, metadata={})
    try:
        clearer._remove_hidden_test_region(cell)
    except RuntimeError:  # unbalanced delimiters: compare with the text as it is
        return source
    return cell.source


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class RestoreCells(NbGraderPreprocessor):
    """Give stripped cells their nbgrader metadata back and re-insert deleted test cells."""

    def preprocess(self, nb, resources):
        nbgrader = resources["nbgrader"]
        with Gradebook(nbgrader["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(nbgrader["notebook"], nbgrader["assignment"])
            except MissingEntry:
                return nb, resources
            db_cells = {c.name: {"cell_type": c.cell_type, "locked": c.locked, "source": c.source}
                        for c in notebook.source_cells}
            points = {c.name: float(c.max_score) for c in notebook.grade_cells}
            solutions = {c.name for c in notebook.solution_cells}
        order = self._source_order(nbgrader["assignment"], nbgrader["notebook"], db_cells)
        wanted = [o for o in order if db_cells[o["grade_id"]]["locked"] or o["grade_id"] in points]

        present = {_grade_id(c) for c in nb.cells if _grade_id(c)}
        by_cell_id = {o["cell_id"]: o for o in order if o.get("cell_id")}

        # 1. cells whose nbgrader metadata is gone: find them by cell id, then by released text
        for cell in nb.cells:
            if _grade_id(cell):
                continue
            match = by_cell_id.get(cell.get("id"))
            if match is None or match["grade_id"] in present:
                match = self._match_by_text(cell, wanted, db_cells, present)
            if match is None:
                continue
            self._give_back(cell, match["grade_id"], db_cells, points, solutions, present, resources)

        # 1b. answer cells pasted into a new notebook (new cell ids): the one cell of the right
        #     type between the two source cells around it
        for pos, item in enumerate(order):
            gid = item["grade_id"]
            if gid in present or gid not in solutions:
                continue
            cell = self._only_cell_between(nb, order[:pos], order[pos + 1:], db_cells[gid]["cell_type"])
            if cell is not None:
                self._give_back(cell, gid, db_cells, points, solutions, present, resources)

        # 2. cells that are gone altogether: insert them after the cell that precedes them
        for pos, item in enumerate(order):
            gid = item["grade_id"]
            if gid in present or item not in wanted:
                continue
            new = self._cell(item, db_cells[gid], points, solutions, nb)
            nb.cells.insert(self._insert_at(nb, order[:pos]), new)
            present.add(gid)
            finding(resources, "cell restored", gid, self.log, cell_type=new.cell_type,
                    locked=db_cells[gid]["locked"], graded=gid in points)
        return nb, resources

    # -- helpers ----------------------------------------------------------------------------
    def _source_order(self, assignment: str, notebook: str, db_cells: dict) -> list[dict]:
        """The source notebook's recorded cells in order: grade_id, cell id (when the file is there)."""
        from nbgrader.coursedir import CourseDirectory

        course = CourseDirectory(parent=self)
        path = Path(course.format_path(course.source_directory, ".", assignment)) / f"{notebook}.ipynb"
        order = []
        try:
            source = nbformat.read(path, as_version=4)
        except (OSError, ValueError, json.JSONDecodeError):
            source = None
        if source is not None:
            for cell in source.cells:
                gid = _grade_id(cell)
                if gid in db_cells and all(o["grade_id"] != gid for o in order):
                    order.append({"grade_id": gid, "cell_id": cell.get("id")})
        for gid in db_cells:  # cells the file no longer has: keep them, at the end
            if all(o["grade_id"] != gid for o in order):
                order.append({"grade_id": gid, "cell_id": None})
        return order

    def _match_by_text(self, cell, wanted, db_cells, present):
        text = _normalise(cell.get("source", ""))
        if not text:
            return None
        for item in wanted:
            gid = item["grade_id"]
            info = db_cells[gid]
            if gid in present or not info["locked"] or info["cell_type"] != cell.cell_type:
                continue
            if text in (_normalise(info["source"]), _normalise(released_text(info["source"], self))):
                return item
        return None

    def _give_back(self, cell, gid, db_cells, points, solutions, present, resources) -> None:
        """Put a found cell's nbgrader metadata back and report it."""
        cell.metadata["nbgrader"] = self._metadata(gid, db_cells[gid], points, solutions)
        present.add(gid)
        finding(resources, "metadata restored", gid, self.log, cell_type=cell.cell_type,
                locked=db_cells[gid]["locked"], graded=gid in points)

    @staticmethod
    def _metadata(gid, info, points, solutions) -> dict:
        meta = {"grade": gid in points, "grade_id": gid, "locked": bool(info["locked"]),
                "schema_version": 3, "solution": gid in solutions, "task": False}
        if gid in points:
            meta["points"] = points[gid]
        return meta

    def _cell(self, item, info, points, solutions, nb) -> NotebookNode:
        gid = item["grade_id"]
        taken = {c.get("id") for c in nb.cells}
        cell_id = item.get("cell_id") if item.get("cell_id") not in taken else None
        maker = nbformat.v4.new_code_cell if info["cell_type"] == "code" else nbformat.v4.new_markdown_cell
        cell = maker(info["source"] or "", **({"id": cell_id} if cell_id else {}))
        cell.metadata = NotebookNode({"nbgrader": self._metadata(gid, info, points, solutions)})
        if info["locked"]:
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        return cell

    @staticmethod
    def _only_cell_between(nb, before: list[dict], after: list[dict], cell_type: str):
        """The single metadata-less cell of `cell_type` between the nearest present neighbours."""
        index = {_grade_id(c): i for i, c in enumerate(nb.cells) if _grade_id(c)}
        start = next((index[o["grade_id"]] for o in reversed(before) if o["grade_id"] in index), None)
        stop = next((index[o["grade_id"]] for o in after if o["grade_id"] in index), None)
        if start is None or stop is None or stop <= start:
            return None
        found = [c for c in nb.cells[start + 1:stop] if not _grade_id(c) and c.cell_type == cell_type]
        return found[0] if len(found) == 1 else None

    @staticmethod
    def _insert_at(nb, before: list[dict]) -> int:
        """Just after the last cell of `before` (source cells preceding the missing one) still present."""
        for item in reversed(before):
            for index, cell in enumerate(nb.cells):
                if _grade_id(cell) == item["grade_id"]:
                    return index + 1
        return 0


class ReportingOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, reporting a locked cell as changed only when the student changed it."""

    def preprocess(self, nb, resources):
        self._resources = resources
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        self._untouched = False
        grade_id = _grade_id(cell)
        if grade_id is not None:
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None
            if source_cell is not None and source_cell.locked:
                mine = _normalise(cell.source)
                self._untouched = mine in (_normalise(source_cell.source),
                                           _normalise(released_text(source_cell.source, self)))
        self._cell = cell
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and self._untouched:
            self.log.debug("Cell %s is as released (hidden tests are put back)", name)
            return
        if attr == "checksum":
            finding(self._resources, "edited", name, cell_type=self._cell.cell_type,
                    graded=utils.is_grade(self._cell))
            self.log.warning("Locked cell %s was changed by the student; the original is used", name)
            return
        finding(self._resources, f"{attr} changed", name, cell_type=self._cell.cell_type,
                graded=utils.is_grade(self._cell), was=copy.deepcopy(old), now=copy.deepcopy(new))
        super().report_change(name, attr, old, new)
