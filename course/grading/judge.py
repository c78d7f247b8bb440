"""The judge: a kernel that runs a notebook's tests on values carried out of the student's sandbox.

The judge is a separate Python process (started like the grading kernels, but never given any
student code): it runs the instructor's locked cells (the setup: imports, data loading) and the
test cells, visible and hidden. Before each test cell, the grader puts the student's values in
it (`course.grading.values.inject`, from JSON). Whatever the student's kernel did to its own
copy of pandas, of `course.checks.compare` or of IPython, the judge never saw it.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

_SHARED: dict[int, Judge] = {}


def shared(parent) -> Judge:
    """This process's judge, reused from notebook to notebook (its namespace is reset for each):
    starting a kernel per notebook costs about 0.4 s. It never runs student code either way."""
    judge = _SHARED.get(os.getpid())
    if judge is None or judge.broken or not judge.alive():
        if judge is not None:
            judge.close()
        judge = _SHARED[os.getpid()] = Judge(parent)
        atexit.register(close_shared)
    judge.parent = parent
    judge.reset()
    return judge


def close_shared() -> None:
    judge = _SHARED.pop(os.getpid(), None)
    if judge is not None:
        judge.close()


def shared_pids() -> set[int]:
    """The process ids of this process's reused judge kernel (kept alive between jobs)."""
    judge = _SHARED.get(os.getpid())
    if judge is None or judge.client is None or judge.client.km is None:
        return set()
    pid = getattr(judge.client.km.provisioner, "pid", None)
    return {pid} if pid else set()


class Judge:
    """One judge kernel (start, run cells, close); see `shared` for the reused one."""

    def __init__(self, parent):
        self.parent = parent
        self.client: NotebookClient | None = None
        self.folder: str | None = None
        self.broken: str | None = None

    def start(self) -> None:
        from . import sandbox, zygote
        from .execute import LimitedKernelManager

        self.folder = tempfile.mkdtemp(prefix="course-judge-")
        parent = self.parent
        km = LimitedKernelManager(kernel_name=parent.kernel_name or "python3")
        km.memory_limit_mb = parent.memory_limit_mb
        km.file_size_limit_mb = parent.file_size_limit_mb
        if parent.preload_kernels and zygote.supported():
            km.wrap_command = False
            km.provisioner = zygote.provisioner(km)
        seconds = parent.timeout
        self.client = NotebookClient(
            nbformat.v4.new_notebook(), km=km, timeout=seconds, allow_errors=True, interrupt_on_timeout=True,
            shutdown_kernel="immediate", kernel_name=parent.kernel_name or "python3", resources={},
            error_on_timeout={"ename": "CellTimeoutError", "evalue": f"the checks took longer than {seconds} s",
                              "traceback": [f"CellTimeoutError: the checks took longer than {seconds} s"]})
        env = sandbox.environment({"HOME": self.folder, "TMPDIR": self.folder, "TEMP": self.folder,
                                   "TMP": self.folder, "MPLCONFIGDIR": os.path.join(self.folder, ".matplotlib"),
                                   "COURSE_PROGRESS_FILE": os.path.join(self.folder, "progress.json")})
        self.client.start_new_kernel(cwd=self.folder, env=env)
        self.client.start_new_kernel_client()

    def alive(self) -> bool:
        if self.client is None:
            return True  # not started yet
        try:
            return bool(self.client.km is not None and self.client.km.provisioner is not None
                        and self.client.km.provisioner.process.poll() is None)
        except Exception:  # noqa: BLE001
            return False

    def reset(self) -> None:
        """Forget everything of the previous notebook (its values, the setup's names)."""
        if self.client is not None and not self.broken:
            self._run("get_ipython().reset(new_session=False)", store_history=False)

    def _run(self, source: str, store_history: bool) -> list:
        if self.broken:
            return [_error("GraderError", self.broken)]
        if self.client is None:
            self.start()
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        try:
            self.client.execute_cell(cell, 0, store_history=store_history)
        except DeadKernelError:
            self.broken = "the grader's checking process stopped; this check could not run"
            return [_error("GraderError", self.broken)]
        except CellTimeoutError:
            return [_error("CellTimeoutError", f"the checks took longer than {self.parent.timeout} s")]
        return list(cell.outputs)

    def trusted(self, source: str) -> list:
        """Run one of the instructor's locked cells (setup); its outputs are not kept."""
        return self._run(source, store_history=False)

    def test(self, source: str, payload: str) -> list:
        """Put the student's values (JSON text from the sandbox) in place, then run the test cell."""
        if self.client is None and not self.broken:
            self.start()
        path = os.path.join(self.folder, "values.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(payload)
        loaded = self._run(f'__import__("course.grading.values", fromlist=["inject"]).inject(globals(), '
                           f'{json.dumps(path)})', store_history=False)
        errors = [o for o in loaded if o.get("output_type") == "error"]
        if errors:
            return [_error("GraderError", "the student's values could not be read back: "
                                          f"{errors[0].get('ename')}: {errors[0].get('evalue')}")]
        return self._run(source, store_history=True)

    def close(self) -> None:
        if self.client is not None and self.client.km is not None:
            try:
                self.client._cleanup_kernel()
            except Exception:  # noqa: BLE001 - leave nothing behind, whatever happened
                pass
        self.client = None
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _error(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
