"""Fast unit tests of course/grading/judge.py (issue 20): the judge's decisions without a kernel.
The notebook client is replaced by one that runs each cell with `exec` in a namespace of this
process, so the values' trip (`test` writes them, the judge injects them, the test cell reads
them) is real; a dead kernel and a timeout are raised by the stand-in."""
from __future__ import annotations

import json
import os
import traceback
from types import SimpleNamespace as NS

import nbformat
import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from course.grading import judge as judge_module
from course.grading import values
from course.grading.judge import Judge


class _Client:
    """Stands in for nbclient's NotebookClient: runs cells with exec in one namespace."""

    def __init__(self, fail=None):
        self.nb = nbformat.v4.new_notebook()
        self.namespace: dict = {}
        self.ran: list = []
        self.fail = fail  # an exception to raise instead of running
        self.cleaned = 0
        self.process = NS(poll=lambda: None)
        self.km = NS(provisioner=NS(process=self.process, pid=4321))

    def execute_cell(self, cell, index, store_history=True):
        self.ran.append((cell.source, index, store_history, self.nb.cells == [cell]))
        if self.fail is not None:
            raise self.fail
        try:
            exec(cell.source, self.namespace)
        except Exception as err:  # noqa: BLE001
            cell.outputs = [nbformat.v4.new_output("error", ename=type(err).__name__, evalue=str(err),
                                                   traceback=traceback.format_exception_only(err))]
        else:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran")]
        return cell

    def _cleanup_kernel(self):
        self.cleaned += 1


def _judge(tmp_path, client=None, timeout=30):
    judge = Judge(NS(timeout=timeout))
    judge.client = client or _Client()
    judge.folder = str(tmp_path)
    return judge


def test_a_test_cell_sees_the_students_values_and_its_outputs_are_returned(tmp_path):
    judge = _judge(tmp_path)
    payload = json.dumps({"answer": values.encode([1, 2, 3]), "gone": {"t": "missing"}})
    judge.client.namespace["gone"] = "left over from the setup"
    out = judge.test("assert answer == [1, 2, 3]\nassert 'gone' not in globals()", payload)
    assert [o.output_type for o in out] == ["stream"]
    assert json.loads((tmp_path / "values.json").read_text(encoding="utf-8")) == json.loads(payload)
    (inject, _, inject_history, alone), (test, index, test_history, _) = judge.client.ran
    assert "inject(globals(), " in inject and json.dumps(str(tmp_path / "values.json")) in inject
    assert (inject_history, test_history, index, alone) == (False, True, 0, True)
    assert test.startswith("assert answer")


def test_a_failing_test_returns_its_error(tmp_path):
    judge = _judge(tmp_path)
    out = judge.test("assert answer == 2, 'answer is not 2'", json.dumps({"answer": values.encode(1)}))
    assert [(o.output_type, o.ename, o.evalue) for o in out] == [("error", "AssertionError", "answer is not 2")]


def test_values_that_cannot_be_injected_are_a_grader_error_and_the_test_is_not_run(tmp_path):
    judge = _judge(tmp_path)
    out = judge.test("assert True", "{not json")
    assert len(out) == 1 and out[0].output_type == "error" and out[0].ename == "GraderError"
    assert out[0].evalue.startswith("the student's values could not be read back: JSONDecodeError: ")
    assert out[0].traceback == [f"GraderError: {out[0].evalue}"]
    assert len(judge.client.ran) == 1


def test_trusted_setup_cells_are_run_without_history(tmp_path):
    judge = _judge(tmp_path)
    assert [o.output_type for o in judge.trusted("import math\nsetup = 1")] == ["stream"]
    assert judge.client.ran == [("import math\nsetup = 1", 0, False, True)]
    assert judge.client.namespace["setup"] == 1


def test_a_dead_kernel_breaks_the_judge_for_good(tmp_path):
    judge = _judge(tmp_path, _Client(fail=DeadKernelError("dead")))
    out = judge.trusted("x = 1")
    message = "the grader's checking process stopped; this check could not run"
    assert judge.broken == message
    assert [(o.ename, o.evalue, o.traceback) for o in out] == [("GraderError", message, [f"GraderError: {message}"])]
    judge.client.fail = None
    out = judge.test("assert True", json.dumps({}))  # broken: nothing runs any more
    assert [o.ename for o in out] == ["GraderError"] and out[0].evalue.endswith(message)
    assert len(judge.client.ran) == 1
    judge.reset()
    assert len(judge.client.ran) == 1
    assert [(o.ename, o.evalue) for o in judge.trusted("x = 2")] == [("GraderError", message)]
    assert len(judge.client.ran) == 1


def test_a_timeout_is_an_error_of_that_test_only(tmp_path):
    judge = _judge(tmp_path, _Client(fail=CellTimeoutError("slow")), timeout=12)
    out = judge.trusted("while True: pass")
    assert [(o.ename, o.evalue, o.traceback) for o in out] == [
        ("CellTimeoutError", "the checks took longer than 12 s",
         ["CellTimeoutError: the checks took longer than 12 s"])]
    assert judge.broken is None


def test_reset_clears_the_namespace_only_when_started_and_not_broken(tmp_path):
    judge = _judge(tmp_path)
    judge.client.namespace["get_ipython"] = lambda: NS(reset=lambda new_session: judge.client.namespace.update(
        reset=new_session))
    judge.reset()
    assert judge.client.ran == [("get_ipython().reset(new_session=False)", 0, False, True)]
    assert judge.client.namespace["reset"] is False
    unstarted = Judge(NS(timeout=1))
    unstarted.reset()  # no kernel yet: nothing to forget, nothing started
    assert unstarted.client is None


def test_the_kernel_starts_on_first_use(tmp_path, monkeypatch):
    started = []

    def start(self):
        started.append(self)
        self.client, self.folder = _Client(), str(tmp_path)

    monkeypatch.setattr(Judge, "start", start)
    judge = Judge(NS(timeout=1))
    judge.trusted("x = 1")
    assert started == [judge] and judge.client.ran[0][0] == "x = 1"
    other = Judge(NS(timeout=1))
    other.test("assert True", "{}")
    assert started == [judge, other] and [r[0] for r in other.client.ran][1] == "assert True"
    broken = Judge(NS(timeout=1))
    broken.broken = "stopped"
    with pytest.raises(TypeError):  # broken before it started: no kernel and no folder to write to
        broken.test("assert True", "{}")
    assert started == [judge, other]


def test_alive_follows_the_kernel_process(tmp_path):
    judge = _judge(tmp_path)
    assert judge.alive()
    judge.client.process.poll = lambda: 1
    assert not judge.alive()
    judge.client.km.provisioner = None
    assert not judge.alive()
    judge.client.km = None
    assert not judge.alive()
    judge.client.km = NS(provisioner=NS())  # no process attribute: not alive, no error
    assert not judge.alive()
    assert Judge(NS()).alive()  # not started yet


def test_close_stops_the_kernel_and_removes_the_folder(tmp_path):
    folder = tmp_path / "judge"
    folder.mkdir()
    (folder / "values.json").write_text("{}")
    judge = _judge(folder)
    client = judge.client
    judge.close()
    assert client.cleaned == 1 and judge.client is None and judge.folder is None and not folder.exists()
    judge.close()  # twice: nothing left to do
    failing = _judge(tmp_path / "none")

    def boom():
        raise RuntimeError("already gone")

    failing.client._cleanup_kernel = boom
    failing.close()
    assert failing.client is None
    no_km = _judge(tmp_path / "none2")
    no_km.client.km = None
    no_km.client._cleanup_kernel = boom
    no_km.close()


@pytest.fixture
def fake_judges(monkeypatch):
    made = []

    class FakeJudge:
        def __init__(self, parent):
            self.parent, self.broken, self.is_alive, self.resets, self.closed = parent, None, True, 0, 0
            self.client = None
            made.append(self)

        def alive(self):
            return self.is_alive

        def reset(self):
            self.resets += 1

        def close(self):
            self.closed += 1

    monkeypatch.setattr(judge_module, "Judge", FakeJudge)
    monkeypatch.setattr(judge_module, "_SHARED", {})
    registered = []
    monkeypatch.setattr(judge_module.atexit, "register", registered.append)
    return NS(made=made, registered=registered)


def test_the_shared_judge_is_reused_reset_and_replaced_when_broken_or_dead(fake_judges):
    first = judge_module.shared("parent 1")
    assert fake_judges.made == [first] and first.resets == 1 and first.parent == "parent 1"
    assert fake_judges.registered == [judge_module.close_shared]
    assert judge_module.shared("parent 2") is first and first.resets == 2 and first.parent == "parent 2"
    first.broken = "stopped"
    second = judge_module.shared("p")
    assert second is not first and first.closed == 1 and second.resets == 1
    second.is_alive = False
    third = judge_module.shared("p")
    assert third is not second and second.closed == 1
    assert judge_module._SHARED == {os.getpid(): third}
    judge_module.close_shared()
    assert third.closed == 1 and judge_module._SHARED == {}
    judge_module.close_shared()  # nothing shared: nothing to do


def test_shared_pids_are_the_judge_kernels_process(fake_judges):
    assert judge_module.shared_pids() == set()
    judge = judge_module.shared("p")
    assert judge_module.shared_pids() == set()  # not started
    judge.client = NS(km=None)
    assert judge_module.shared_pids() == set()
    judge.client = NS(km=NS(provisioner=NS(pid=999)))
    assert judge_module.shared_pids() == {999}
    judge.client = NS(km=NS(provisioner=NS()))
    assert judge_module.shared_pids() == set()
    judge.client = NS(km=NS(provisioner=NS(pid=None)))
    assert judge_module.shared_pids() == set()


# -- starting the judge's kernel (the kernel manager and the notebook client replaced by recorders) ---


@pytest.fixture
def starting(monkeypatch):
    from course.grading import execute, zygote

    seen = NS(managers=[], clients=[], zygote=True)

    class Manager:
        def __init__(self, kernel_name):
            self.kernel_name, self.wrap_command, self.provisioner = kernel_name, True, None
            seen.managers.append(self)

    class Client:
        def __init__(self, nb, **kw):
            self.nb, self.kw, self.calls = nb, kw, []
            seen.clients.append(self)

        def start_new_kernel(self, **kw):
            self.calls.append(("kernel", kw))

        def start_new_kernel_client(self):
            self.calls.append(("client",))

    monkeypatch.setattr(execute, "LimitedKernelManager", Manager)
    monkeypatch.setattr(judge_module, "NotebookClient", Client)
    monkeypatch.setattr(zygote, "supported", lambda: seen.zygote)
    monkeypatch.setattr(zygote, "provisioner", lambda km: ("zygote for", km))
    return seen


def _parent(**kw):
    values = dict(kernel_name="", memory_limit_mb=512, file_size_limit_mb=20, preload_kernels=False, timeout=45)
    values.update(kw)
    return NS(**values)


def test_the_judge_kernel_gets_the_limits_a_private_folder_and_a_clear_timeout(starting):
    judge = Judge(_parent())
    judge.start()
    try:
        (km,), (client,) = starting.managers, starting.clients
        assert (km.kernel_name, km.memory_limit_mb, km.file_size_limit_mb) == ("python3", 512, 20)
        assert km.wrap_command is True and km.provisioner is None  # no preloading asked: a plain kernel
        assert client.kw["km"] is km and client.kw["timeout"] == 45 and client.kw["allow_errors"] is True
        assert client.kw["interrupt_on_timeout"] is True and client.kw["shutdown_kernel"] == "immediate"
        assert client.kw["kernel_name"] == "python3" and client.kw["resources"] == {}
        assert client.kw["error_on_timeout"] == {
            "ename": "CellTimeoutError", "evalue": "the checks took longer than 45 s",
            "traceback": ["CellTimeoutError: the checks took longer than 45 s"]}
        assert client.nb.cells == []
        folder = judge.folder
        assert os.path.isdir(folder) and os.path.basename(folder).startswith("course-judge-")
        (kind, kw), second = client.calls
        assert kind == "kernel" and second == ("client",) and kw["cwd"] == folder
        env = kw["env"]
        assert {k: env[k] for k in ("HOME", "TMPDIR", "TEMP", "TMP")} == dict.fromkeys(("HOME", "TMPDIR", "TEMP",
                                                                                            "TMP"), folder)
        assert env["MPLCONFIGDIR"] == os.path.join(folder, ".matplotlib")
        assert env["COURSE_PROGRESS_FILE"] == os.path.join(folder, "progress.json")
        assert env["USER"] == "student"  # the sandbox's allow-listed environment, nothing of the grader's
    finally:
        judge.client = None
        judge.close()
    assert not os.path.exists(folder)


def test_the_judge_kernel_is_forked_from_the_zygote_when_preloading(starting):
    judge = Judge(_parent(kernel_name="python3-course", preload_kernels=True))
    judge.start()
    km = starting.managers[0]
    assert km.kernel_name == "python3-course" and starting.clients[0].kw["kernel_name"] == "python3-course"
    assert km.wrap_command is False and km.provisioner == ("zygote for", km)
    judge.client = None
    judge.close()
    starting.zygote = False  # preloading asked, but not possible here: a plain kernel
    judge = Judge(_parent(preload_kernels=True))
    judge.start()
    assert starting.managers[1].wrap_command is True and starting.managers[1].provisioner is None
    judge.client = None
    judge.close()
