"""Run a student's notebook for grading, safely and with a record of what went wrong.

`CourseExecute` is nbgrader's own `Execute` preprocessor with four changes, all set from
nbgrader_config.py:

- a per-notebook time limit (`CourseExecute.notebook_timeout`) on top of nbgrader's per-cell one
  (`Execute.timeout`): cells not reached in time are not run and get an error output, so their
  tests score 0 instead of counting as passed;
- a kernel that dies (os._exit, a crash, the memory limit) or stops answering is recorded and the
  cells after it are marked as not run; nbgrader 0.9.6 instead aborts the submission, deletes its
  folder and leaves a 0.0 row that looks like a real zero;
- the kernel starts under memory and file-size limits (`course.grading.limits`), with one thread
  per numeric library, its output sent to a log file instead of the terminal, and on Linux it is
  forked from a process that has ipykernel and pandas imported already (`course.grading.zygote`);
- the kernel works in a fresh temporary folder of its own, holding copies of the assignment's
  data files, with HOME and TMPDIR pointing into it and credentials-like variables removed from
  its environment; the folder is deleted afterwards, so student code cannot litter the
  autograded/ and feedback/ folders. (This is not a sandbox: see exercises/README.md.)

What happened is recorded in `resources["course_grading"]["events"]`, which
`course.grading.autograde` turns into the submission's status.
"""
from __future__ import annotations

import os
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

from . import limits, zygote

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSW|API_?KEY|CREDENTIAL|PRIVATE|_AUTH|^AWS_|^GH_|^GITHUB_)", re.I)
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
MAX_COPIED_FILE = 50 * 1024 * 1024


def record(resources: dict, kind: str, **details) -> None:
    """Add an event to the grading record of this notebook."""
    resources.setdefault("course_grading", {}).setdefault("events", []).append({"kind": kind, **details})


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start under `course.grading.limits`."""

    memory_limit_mb = Integer(0, help="address-space limit of the kernel in MB (0: none)").tag(config=True)
    file_size_limit_mb = Integer(0, help="largest file the kernel may write, in MB (0: none)").tag(config=True)
    wrap_command = Bool(True, help="start the kernel command through course.grading.limits")

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments=extra_arguments)
        if not self.wrap_command:  # the fork provisioner applies the limits itself
            return command
        return limits.wrap(command, self.memory_limit_mb, self.file_size_limit_mb, debugger=False)


def kernel_environment(workdir: str) -> dict[str, str]:
    """The environment a student's kernel gets: the instructor's, minus secrets, homed in `workdir`."""
    env = {key: value for key, value in os.environ.items() if not SECRET_NAME.search(key)}
    env.update({"HOME": workdir, "TMPDIR": workdir, "TEMP": workdir, "TMP": workdir,
                "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(workdir, ".matplotlib"),
                "COURSE_PROGRESS_FILE": os.path.join(workdir, "course_progress.json"),
                "PYTHONDONTWRITEBYTECODE": "1"})
    for name in ONE_THREAD:
        env[name] = "1"
    env.pop("JPY_SESSION_NAME", None)
    return env


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


class CourseExecute(Execute):
    """nbgrader's Execute with a notebook time limit, resource limits and a record of failures."""

    notebook_timeout = Integer(
        300, help="Seconds the whole notebook may run; cells not reached in time are not run (0: no limit)."
    ).tag(config=True)
    memory_limit_mb = Integer(2048, help="Address-space limit of a student's kernel, MB (0: none).").tag(config=True)
    file_size_limit_mb = Integer(100, help="Largest file a student's kernel may write, MB (0: none).").tag(config=True)
    own_working_directory = Bool(
        True, help="Run each kernel in a fresh temporary folder holding copies of the assignment's files."
    ).tag(config=True)
    preload_kernels = Bool(
        True, help="Linux: fork kernels from a process that has imported ipykernel and pandas already "
                   "(course.grading.zygote); each kernel is still a process of its own."
    ).tag(config=True)

    # a grading kernel has nothing to save: stop it at once instead of waiting for it to wind down
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate",
                           help="How to stop the kernel after the notebook ran.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)
        self._workdir = None

    # -- the kernel -------------------------------------------------------------------------
    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if isinstance(km, LimitedKernelManager):
            km.memory_limit_mb = self.memory_limit_mb
            km.file_size_limit_mb = self.file_size_limit_mb
            if self.preload_kernels and zygote.supported():
                km.wrap_command = False
                km.provisioner = zygote.provisioner(km)
        return km

    async def async_start_new_kernel(self, **kwargs):
        if self.own_working_directory:
            self._workdir = tempfile.mkdtemp(prefix="course-grade-")
            _copy_data_files(self.resources.get("metadata", {}).get("path"), self._workdir)
            kwargs["cwd"] = self._workdir
            kwargs["env"] = kernel_environment(self._workdir)
            self._kernel_log = open(os.path.join(self._workdir, ".kernel.log"), "wb")  # noqa: SIM115
            kwargs.setdefault("stdout", self._kernel_log)
            kwargs.setdefault("stderr", self._kernel_log)
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    def _kernel_log_tail(self, lines: int = 5) -> str:
        if not self._workdir:
            return ""
        try:
            text = Path(self._workdir, ".kernel.log").read_text(errors="replace")
        except OSError:
            return ""
        keep = [line for line in text.splitlines() if line.strip() and "without encryption" not in line]
        return "\n".join(keep[-lines:])

    async def _async_cleanup_kernel(self):
        try:
            await super()._async_cleanup_kernel()
        finally:
            log = getattr(self, "_kernel_log", None)
            if log is not None:
                log.close()
                self._kernel_log = None
            if self._workdir:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

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

    # -- running the cells ------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        self._deadline = monotonic() + (self.notebook_timeout or 0)
        self._stop_reason = None
        resources = resources if resources is not None else {}
        resources.setdefault("course_grading", {}).setdefault("events", [])
        return super().preprocess(nb, resources, km=km)

    def preprocess_cell(self, cell, resources, index):
        if self._stop_reason is None and self._remaining() is not None and self._remaining() <= 0:
            self._stop_reason = f"the notebook ran out of its {self.notebook_timeout} s"
            record(self.resources, "notebook timeout", cell=_cell_name(cell), seconds=self.notebook_timeout)
        if self._stop_reason is not None:
            if cell.cell_type == "code":
                cell.outputs = [not_run_output(f"not run: {self._stop_reason}")]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stop_reason = f"the kernel died in cell {_cell_name(cell)}"
            record(self.resources, "kernel died", cell=_cell_name(cell), log=self._kernel_log_tail())
        except CellTimeoutError:
            self._stop_reason = f"the kernel stopped answering in cell {_cell_name(cell)}"
            record(self.resources, "kernel unresponsive", cell=_cell_name(cell))
        cell.outputs = list(cell.get("outputs", [])) + [not_run_output(self._stop_reason)]
        return cell, self.resources


def _cell_name(cell) -> str:
    if cell is None:
        return "?"
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade_id") or cell.get("id") or "?"
