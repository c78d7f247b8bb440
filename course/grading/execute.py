"""Run a student's notebook for grading: in a sandbox, with the tests judged outside it.

`CourseExecute` is nbgrader's own `Execute` preprocessor with these changes, all set from
nbgrader_config.py:

- the student's kernel runs in a sandbox of its own (`course.grading.sandbox`, bubblewrap):
  read-only system and Python, no course folder, no network, its own processes and /proc, a
  small private work folder, an allow-list environment, limits on memory, file size and
  processes. Without bubblewrap it refuses to run (`SandboxUnavailable`) unless the instructor
  chose `sandbox = "none"` (`course grade autograde --no-sandbox`);
- test cells never run in the student's kernel: at each test cell the values it reads are
  carried out of the kernel as JSON (`course.grading.values`) and the test runs in a separate
  judge process that never ran student code (`course.grading.judge`), so patching the tests,
  the comparison functions or IPython inside the kernel changes nothing, and the hidden tests
  never reach the kernel;
- a per-notebook time limit (`notebook_timeout`) on top of nbgrader's per-cell one
  (`Execute.timeout`): cells not reached in time are not run and get an error output, so their
  tests score 0 instead of counting as passed;
- a kernel that dies (os._exit, a crash, the memory limit) or stops answering is recorded and the
  cells after it are marked as not run; nbgrader 0.9.6 instead aborts the submission, deletes its
  folder and leaves a 0.0 row that looks like a real zero;
- outputs are capped per cell and per notebook (`max_output_cell_kb`, `max_output_notebook_kb`),
  with a line saying what was cut;
- without the sandbox (`sandbox = "none"`), the kernel starts under the same limits in a fresh
  temporary folder, forked on Linux from a process that has ipykernel and pandas imported
  (`course.grading.zygote`); the judge kernels always start that way.

What happened is recorded in `resources["course_grading"]["events"]`, which
`course.grading.autograde` turns into the submission's status.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import tempfile
from pathlib import Path
from time import monotonic

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum, Integer

from . import limits, sandbox, values, zygote
from .sandbox import SandboxUnavailable  # noqa: F401 - re-exported for nbgrader_config.py users

ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
MAX_COPIED_FILE = 50 * 1024 * 1024


def record(resources: dict, kind: str, **details) -> None:
    """Add an event to the grading record of this notebook."""
    resources.setdefault("course_grading", {}).setdefault("events", []).append({"kind": kind, **details})


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start under `course.grading.limits` (and maybe in the sandbox)."""

    memory_limit_mb = Integer(0, help="address-space limit of the kernel in MB (0: none)").tag(config=True)
    file_size_limit_mb = Integer(0, help="largest file the kernel may write, in MB (0: none)").tag(config=True)
    wrap_command = Bool(True, help="start the kernel command through course.grading.limits")
    processes_limit = 0
    work_folder_mb = 64
    sandbox_folder: str | None = None
    sandbox_data: str | None = None
    sandbox_preloaded = False
    sandbox_log = None

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments=extra_arguments)
        if not self.wrap_command:  # the fork or sandbox provisioner applies the limits itself
            return command
        return limits.wrap(command, self.memory_limit_mb, self.file_size_limit_mb, debugger=False)

    def use_sandbox(self, data_folder: str | None) -> None:
        """Start this manager's kernel in the bubblewrap sandbox (talking to it over ipc sockets)."""
        self.wrap_command = False
        self.transport = "ipc"
        self.sandbox_folder = sandbox.new_folder()
        self.sandbox_data = data_folder
        self.ip = os.path.join(self.sandbox_folder, "kernel")
        self.kernel_spec.interrupt_mode = "message"  # a signal to bwrap would not reach the kernel
        self.provisioner = sandbox.provisioner(self)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self.sandbox_folder and not restart:
            shutil.rmtree(self.sandbox_folder, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources  # an async manager's method is a coroutine


def kernel_environment(workdir: str) -> dict[str, str]:
    """The environment of a kernel outside the sandbox: the same allow-list, homed in `workdir`."""
    return sandbox.environment({"HOME": workdir, "TMPDIR": workdir, "TEMP": workdir, "TMP": workdir,
                                "MPLCONFIGDIR": os.path.join(workdir, ".matplotlib"),
                                "COURSE_PROGRESS_FILE": os.path.join(workdir, "course_progress.json"),
                                "PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def _copy_data_files(source: str | None, workdir: str) -> None:
    """Copy the assignment's non-notebook files (data the notebook reads) into the work folder."""
    if not source or not os.path.isdir(source):
        return
    for path in Path(source).rglob("*"):
        if path.is_file() and path.suffix != ".ipynb" and path.stat().st_size <= MAX_COPIED_FILE:
            target = Path(workdir) / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def not_run_output(reason: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename="NotRun", evalue=reason,
                        traceback=[f"NotRun: {reason}"])


# -- output caps ---------------------------------------------------------------------------------------
def output_size(out) -> int:
    kind = out.get("output_type")
    if kind == "stream":
        return len(out.get("text", ""))
    if kind == "error":
        return len(str(out.get("evalue", ""))) + sum(len(line) for line in out.get("traceback", []))
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in (out.get("data") or {}).values())


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def cap_outputs(outputs: list, budget: int, what: str) -> tuple[list, int]:
    """Keep at most `budget` characters of `outputs`; error outputs are always kept (shortened),
    since a test's error is its score. Returns the outputs, with a line saying what was cut, and
    how much was cut."""
    kept, cut = [], 0
    for out in outputs:
        size = output_size(out)
        if size <= budget:
            kept.append(out)
            budget -= size
            continue
        room = max(0, budget)
        if out.get("output_type") == "stream":
            if room:
                kept.append(NotebookNode({**out, "text": out["text"][:room]}))
            cut += size - room
        elif out.get("output_type") == "error":
            short = max(200, room)
            evalue = str(out.get("evalue", ""))[:short]
            kept.append(NotebookNode({**out, "evalue": evalue,
                                      "traceback": [f"{out.get('ename', 'Error')}: {evalue}"]}))
            cut += max(0, size - short)
        else:
            cut += size
        budget = 0
    if cut:
        kept.append(NotebookNode(output_type="stream", name="stderr",
                                 text=f"\n[grading: {_mb(cut)} of output cut here: {what}]\n"))
    return kept, cut


class CourseExecute(Execute):
    """nbgrader's Execute in a sandbox, with tests judged outside it, limits and a record of failures."""

    sandbox = Enum(["bwrap", "none"], default_value="bwrap", help=(
        "Where student code runs: 'bwrap' (a bubblewrap sandbox per submission; refuses to run without "
        "it) or 'none' (as the instructor: `course grade autograde --no-sandbox`).")).tag(config=True)
    judge_outside = Bool(True, help=(
        "Run test cells in a separate judge process, on values carried out of the student's kernel as JSON "
        "(never in the student's kernel).")).tag(config=True)
    fresh_judge = Bool(False, help=(
        "Start a new judge process for every notebook, instead of one per grading worker whose namespace is "
        "reset for every notebook (it never runs student code either way; a new one costs ~0.4 s).")).tag(
        config=True)
    notebook_timeout = Integer(
        300, help="Seconds the whole notebook may run; cells not reached in time are not run (0: no limit)."
    ).tag(config=True)
    memory_limit_mb = Integer(2048, help="Address-space limit of a student's kernel, MB (0: none).").tag(config=True)
    file_size_limit_mb = Integer(100, help="Largest file a student's kernel may write, MB (0: none).").tag(config=True)
    max_processes = Integer(32, help="Processes and threads a student's kernel may run, its own ~11 threads "
                                     "included (sandbox; 0: no limit).").tag(config=True)
    work_folder_mb = Integer(64, help="Size of the sandbox's work folder (memory-backed), MB.").tag(config=True)
    max_output_cell_kb = Integer(1024, help="Output kept per cell, KB of text (the rest is cut).").tag(config=True)
    max_output_notebook_kb = Integer(4096, help="Output kept per notebook, KB of text.").tag(config=True)
    own_working_directory = Bool(
        True, help="Without the sandbox: run each kernel in a fresh temporary folder holding copies of the "
                   "assignment's files."
    ).tag(config=True)
    preload_kernels = Bool(
        True, help="Linux: fork kernels outside the sandbox (the judge; all of them with sandbox='none') from a "
                   "process that has imported ipykernel and pandas already (course.grading.zygote)."
    ).tag(config=True)

    # a grading kernel has nothing to save: stop it at once instead of waiting for it to wind down
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate",
                           help="How to stop the kernel after the notebook ran.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)
        self._workdir = None
        self._kernel_log = None

    # -- the kernel -------------------------------------------------------------------------
    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if isinstance(km, LimitedKernelManager):
            km.memory_limit_mb = self.memory_limit_mb
            km.file_size_limit_mb = self.file_size_limit_mb
            if self.sandbox == "bwrap":
                ok, why = sandbox.available()
                if not ok:
                    raise SandboxUnavailable(f"no sandbox for student code: {why}")
                km.processes_limit = self.max_processes
                km.work_folder_mb = self.work_folder_mb
                km.sandbox_preloaded = self.preload_kernels and sandbox.preloaded_supported()
                km.use_sandbox(self.resources.get("metadata", {}).get("path"))
            elif self.preload_kernels and zygote.supported():
                km.wrap_command = False
                km.provisioner = zygote.provisioner(km)
        elif self.sandbox == "bwrap":
            raise SandboxUnavailable("the sandbox needs course.grading.execute.LimitedKernelManager")
        return km

    def _sandboxed(self) -> bool:
        return bool(getattr(self.km, "sandbox_folder", None))

    async def async_start_new_kernel(self, **kwargs):
        if self._sandboxed():
            kwargs["cwd"] = self.km.sandbox_folder
            kwargs["env"] = sandbox.environment()
        elif self.own_working_directory:
            self._workdir = tempfile.mkdtemp(prefix="course-grade-")
            _copy_data_files(self.resources.get("metadata", {}).get("path"), self._workdir)
            kwargs["cwd"] = self._workdir
            kwargs["env"] = kernel_environment(self._workdir)
            self._kernel_log = open(os.path.join(self._workdir, ".kernel.log"), "wb")  # noqa: SIM115
            kwargs.setdefault("stdout", self._kernel_log)
            kwargs.setdefault("stderr", self._kernel_log)
        try:
            await super().async_start_new_kernel(**kwargs)
        except BaseException:
            self._remove_workdir()  # nbclient cleans up only after a start that worked
            raise

    start_new_kernel = run_sync(async_start_new_kernel)

    def _kernel_log_tail(self, lines: int = 5) -> str:
        tail = getattr(self.km, "sandbox_log", None) if self.km is not None else None
        if tail is not None:
            text = "\n".join(list(tail))
        elif self._workdir:
            try:
                text = Path(self._workdir, ".kernel.log").read_text(errors="replace")
            except OSError:
                return ""
        else:
            return ""
        keep = [line for line in text.splitlines() if line.strip() and "without encryption" not in line]
        return "\n".join(keep[-lines:])

    async def _async_cleanup_kernel(self):
        try:
            await super()._async_cleanup_kernel()
        finally:
            self._remove_workdir()

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    def _remove_workdir(self) -> None:
        """Close the kernel's log and delete its work folder (outside the sandbox)."""
        if self._kernel_log is not None:
            self._kernel_log.close()
            self._kernel_log = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # -- time limits ------------------------------------------------------------------------
    def _remaining(self) -> float | None:
        if not self.notebook_timeout or self.notebook_timeout <= 0:
            return None
        return self._deadline - monotonic()

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = self._remaining()
        if remaining is None:
            return timeout
        capped = max(1, int(remaining + 0.999))
        return capped if timeout is None else min(timeout, capped)

    async def _async_handle_timeout(self, timeout, cell=None):
        remaining = self._remaining()
        whole = remaining is not None and remaining <= 0.5
        record(self.resources, "notebook timeout" if whole else "cell timeout",
               cell=_cell_name(cell), seconds=self.notebook_timeout if whole else timeout)
        if whole:
            self._stop_reason = f"the notebook ran out of its {self.notebook_timeout} s"
        return await super()._async_handle_timeout(timeout, cell)

    # -- which cell runs where ------------------------------------------------------------------
    def _plan(self, nb, resources) -> dict[int, tuple[str, list[str]]]:
        """index -> ("test", names) for test cells and ("trusted", []) for the instructor's locked
        code cells, both as recorded in the gradebook (text and all); other cells are the student's."""
        info = (resources or {}).get("nbgrader") or {}
        if not self.judge_outside or not info.get("db_url"):
            return {}
        from nbgrader.api import Gradebook, MissingEntry

        try:
            with Gradebook(info["db_url"]) as gb:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
                recorded = {c.name: (c.source or "", bool(c.locked), c.cell_type) for c in notebook.source_cells}
                tests = {c.name for c in notebook.grade_cells if c.cell_type == "code"}
                answers = {c.name for c in notebook.solution_cells}
        except MissingEntry:
            return {}
        answer_names = self._answer_names(info)
        plan, trusted_names = {}, set()
        for index, cell in enumerate(nb.cells):
            gid = _grade_id(cell)
            if cell.cell_type != "code" or gid not in recorded or recorded[gid][0] != cell.source:
                continue
            if gid in tests and gid not in answers:
                names = [n for n in values.names_read(cell.source) if n not in trusted_names or n in answer_names]
                plan[index] = ("test", names)
            elif recorded[gid][1] and gid not in answers:
                plan[index] = ("trusted", [])
                trusted_names |= values.names_bound(cell.source)
        return plan

    def _answer_names(self, info) -> set[str]:
        """The names the source notebook's model answers set (the tasks' variables)."""
        import nbformat
        from nbgrader.coursedir import CourseDirectory

        from .samples import is_answer, solution_code

        try:
            course = CourseDirectory(parent=self)
            path = Path(course.format_path(course.source_directory, ".", info["assignment"])) / \
                f"{info['notebook']}.ipynb"
            source = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - without the source, the locked cells decide alone
            return set()
        names: set[str] = set()
        for cell in source.cells:
            if is_answer(cell) or (cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")):
                names |= values.names_bound(solution_code(cell.source))
        return names

    # -- running the cells ------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        from . import judge

        self._deadline = monotonic() + (self.notebook_timeout or 0)
        self._stop_reason = None
        self._cell_bytes: dict[int, int] = {}
        self._notebook_bytes = 0
        resources = resources if resources is not None else {}
        resources.setdefault("course_grading", {}).setdefault("events", [])
        self._cells_plan = self._plan(nb, resources)
        if not self._cells_plan:
            self._judge = None
        elif self.fresh_judge:
            self._judge = judge.Judge(self)
        else:
            self._judge = judge.shared(self)
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            if self._judge is not None and (self.fresh_judge or self._judge.broken):
                self._judge.close()
            self._judge = None

    def preprocess_cell(self, cell, resources, index):
        if self._stop_reason is None and self._remaining() is not None and self._remaining() <= 0:
            self._stop_reason = f"the notebook ran out of its {self.notebook_timeout} s"
            record(self.resources, "notebook timeout", cell=_cell_name(cell), seconds=self.notebook_timeout)
        if self._stop_reason is not None:
            if cell.cell_type == "code":
                cell.outputs = [not_run_output(f"not run: {self._stop_reason}")]
            return cell, self.resources
        role, names = self._cells_plan.get(index, ("student", []))
        if role == "test":
            return self._judge_test(cell, names), self.resources
        try:
            cell, _ = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stop_reason = f"the kernel died in cell {_cell_name(cell)}"
            record(self.resources, "kernel died", cell=_cell_name(cell), log=self._kernel_log_tail())
            cell.outputs = list(cell.get("outputs", [])) + [not_run_output(self._stop_reason)]
        except CellTimeoutError:
            self._stop_reason = f"the kernel stopped answering in cell {_cell_name(cell)}"
            record(self.resources, "kernel unresponsive", cell=_cell_name(cell))
            cell.outputs = list(cell.get("outputs", [])) + [not_run_output(self._stop_reason)]
        self._cap(cell)
        self._note_missing_modules(cell, judged=False)
        if role == "trusted" and self._judge is not None:
            for out in self._judge.trusted(cell.source):
                if out.get("output_type") == "error":
                    record(self.resources, "judge setup failed", cell=_cell_name(cell),
                           error=f"{out.get('ename')}: {out.get('evalue')}"[:300])
        return cell, self.resources

    def _cap(self, cell) -> None:
        if cell.cell_type != "code" or not cell.get("outputs"):
            return
        cell_budget = self.max_output_cell_kb * 1024
        notebook_left = max(0, self.max_output_notebook_kb * 1024 - self._notebook_bytes)
        budget = min(cell_budget, notebook_left)
        what = (f"the limit is {self.max_output_cell_kb} KB per cell" if budget == cell_budget else
                f"the notebook reached its limit of {self.max_output_notebook_kb} KB")
        cell.outputs, cut = cap_outputs(cell.outputs, budget, what)
        self._notebook_bytes += sum(output_size(o) for o in cell.outputs)
        if cut:
            record(self.resources, "output cut", cell=_cell_name(cell), bytes=cut)

    def output(self, outs, msg, display_id, cell_index):
        # keep memory bounded while a cell prints: past its cap, further outputs are not kept at all
        used = self._cell_bytes.get(cell_index, 0)
        limit = min(self.max_output_cell_kb, self.max_output_notebook_kb) * 1024
        if used > limit or self._notebook_bytes > self.max_output_notebook_kb * 1024:
            self._cell_bytes[cell_index] = used + 1
            if not outs or outs[-1].get("name") != "stderr" or "not kept" not in outs[-1].get("text", ""):
                outs.append(NotebookNode(output_type="stream", name="stderr",
                                         text="\n[grading: output past the limit not kept]\n"))
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            self._cell_bytes[cell_index] = used + output_size(out)
        return out

    def _note_missing_modules(self, cell, judged: bool) -> None:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "ModuleNotFoundError":
                found = re.search(r"No module named '([^']+)'", str(out.get("evalue", "")))
                record(self.resources, "missing module", cell=_cell_name(cell), judged=judged,
                       module=found.group(1) if found else str(out.get("evalue", ""))[:80])

    # -- tests, judged outside the kernel -------------------------------------------------------
    def _judge_test(self, cell, names):
        payload, problem = run_sync(self._async_fetch_values)(names)
        if problem == "dead":
            self._stop_reason = f"the kernel died before cell {_cell_name(cell)}"
            record(self.resources, "kernel died", cell=_cell_name(cell), log=self._kernel_log_tail())
            cell.outputs = [not_run_output(self._stop_reason)]
            return cell
        if problem:
            record(self.resources, "values unreadable", cell=_cell_name(cell), why=problem)
        outputs = self._judge.test(cell.source, payload)
        cell.outputs = outputs
        cell.execution_count = None
        self._cap(cell)
        self._note_missing_modules(cell, judged=True)
        return cell

    async def _async_fetch_values(self, names: list[str]) -> tuple[str, str | None]:
        """The student's values of `names`, as JSON text for the judge, and what went wrong (or None)."""
        missing = json.dumps({name: {"t": "missing"} for name in names})
        if not names:
            return missing, None
        code = f'__import__("course.grading.values", fromlist=["dump"]).dump(globals(), {names!r})'
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False, stop_on_error=False)
        limit = self.timeout or 30
        remaining = self._remaining()
        deadline = monotonic() + (limit if remaining is None else max(1.0, min(limit, remaining)))
        text = None
        while True:
            left = deadline - monotonic()
            if left <= 0:
                await self.km.interrupt_kernel()
                return missing, f"the kernel did not hand over {', '.join(names)} within {limit} s"
            try:
                msg = await self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                if not await self.km.is_alive():
                    return missing, "dead"
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "display_data" and values.MIME in msg["content"].get("data", {}):
                text = msg["content"]["data"][values.MIME]
            elif msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                break
        try:  # the student's kernel wrote this: read it as data, and only the names asked for
            found = json.loads(text) if isinstance(text, str) and len(text) <= values.MAX_BYTES else None
            if not isinstance(found, dict):
                raise ValueError("not a JSON object")
            return json.dumps({name: found.get(name, {"t": "missing"}) for name in names}), None
        except Exception:  # noqa: BLE001 - too deep, not JSON, not an object: the test sees no answer
            return missing, "the kernel's answer could not be read"


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _cell_name(cell) -> str:
    if cell is None:
        return "?"
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade_id") or cell.get("id") or "?"
