"""Fast unit tests of course/grading/limits.py (issue 20): which limits the kernel launcher sets
and which program it then starts, called in this process with `resource`, the user switch and
`execvp` replaced by recorders (the real limits are tested in a subprocess in
test_grading_parts.py, where mutation testing cannot see them)."""
from __future__ import annotations

import os
import sys
import types

import pytest

from course.grading import limits

INF = -1
MB = 1024 * 1024


@pytest.fixture
def rlimits(monkeypatch):
    """A stand-in `resource` module: current limits per resource, and every setrlimit call."""
    fake = types.SimpleNamespace(RLIM_INFINITY=INF, RLIMIT_AS="AS", RLIMIT_FSIZE="FSIZE", RLIMIT_NPROC="NPROC",
                                 RLIMIT_CORE="CORE")
    fake.current = {"AS": (INF, INF), "FSIZE": (INF, INF), "NPROC": (INF, INF), "CORE": (INF, INF)}
    fake.calls = []
    fake.getrlimit = lambda which: fake.current[which]

    def setrlimit(which, pair):
        fake.calls.append((which, pair))
        fake.current[which] = pair

    fake.setrlimit = setrlimit
    monkeypatch.setitem(sys.modules, "resource", fake)
    return fake


@pytest.fixture
def started(monkeypatch):
    """What the launcher ran: execvp's program and arguments, and the user it switched to."""
    seen = {"exec": [], "os": []}
    monkeypatch.setattr(os, "execvp", lambda program, args: seen["exec"].append((program, list(args))))
    monkeypatch.setattr(os, "setgroups", lambda groups: seen["os"].append(("groups", list(groups))))
    monkeypatch.setattr(os, "setgid", lambda gid: seen["os"].append(("gid", gid)))
    monkeypatch.setattr(os, "setuid", lambda uid: seen["os"].append(("uid", uid)))
    return seen


def test_apply_sets_soft_and_hard_limits_and_says_what_it_set(rlimits):
    assert limits.apply(memory_mb=2048, file_size_mb=100, processes=64) == [
        "memory 2048 MB", "file size 100 MB", "64 processes"]
    assert rlimits.calls == [("AS", (2048 * MB, 2048 * MB)), ("FSIZE", (100 * MB, 100 * MB)),
                             ("NPROC", (64, 64)), ("CORE", (0, 0))]


def test_apply_with_no_limits_still_forbids_core_dumps(rlimits):
    assert limits.apply() == []
    assert rlimits.calls == [("CORE", (0, 0))]
    rlimits.calls.clear()
    assert limits.apply(memory_mb=1) == ["memory 1 MB"]
    assert rlimits.calls == [("AS", (MB, MB)), ("CORE", (0, 0))]
    rlimits.calls.clear()
    assert limits.apply(file_size_mb=1) == ["file size 1 MB"]
    assert limits.apply(processes=1) == ["1 processes"]
    assert rlimits.calls == [("FSIZE", (MB, MB)), ("CORE", (0, 0)), ("NPROC", (1, 1)), ("CORE", (0, 0))]


def test_apply_never_raises_a_hard_limit_already_lower(rlimits):
    rlimits.current["AS"] = (INF, 10 * MB)  # soft unlimited, hard 10 MB
    rlimits.current["NPROC"] = (5, 100)
    limits.apply(memory_mb=2048, processes=50)
    assert ("AS", (10 * MB, 10 * MB)) in rlimits.calls  # cannot go above the hard limit
    assert ("NPROC", (50, 50)) in rlimits.calls  # lower than the hard limit: as asked
    rlimits.calls.clear()
    rlimits.current["FSIZE"] = (INF, MB)
    limits.apply(file_size_mb=1)
    assert ("FSIZE", (MB, MB)) in rlimits.calls


def test_become_drops_groups_then_switches_group_then_user(started):
    limits.become(4242)
    assert started["os"] == [("groups", []), ("gid", 4242), ("uid", 4242)]


def test_wrap_prefixes_the_launcher_with_its_limits():
    assert limits.wrap(["python", "-m", "k"], memory_mb=512, file_size_mb=10) == [
        sys.executable, "-m", "course.grading.limits", "--memory-mb", "512", "--file-size-mb", "10", "--",
        "python", "-m", "k"]
    assert limits.wrap(["k"], debugger=False) == [
        sys.executable, "-m", "course.grading.limits", "--memory-mb", "0", "--file-size-mb", "0",
        "--no-debugger", "--", "k"]


def test_same_python_compares_files_not_names(tmp_path):
    assert limits._same_python(sys.executable)
    assert not limits._same_python(str(tmp_path / "nothing"))
    (tmp_path / "other").write_text("")
    assert not limits._same_python(str(tmp_path / "other"))


def test_main_sets_the_limits_then_replaces_itself_with_the_program(rlimits, started):
    assert limits.main(["--memory-mb", "256", "--file-size-mb", "7", "--processes", "9", "--",
                        "prog", "--flag", "x"]) == 0
    assert rlimits.calls == [("AS", (256 * MB, 256 * MB)), ("FSIZE", (7 * MB, 7 * MB)), ("NPROC", (9, 9)),
                             ("CORE", (0, 0))]
    assert started["exec"] == [("prog", ["prog", "--flag", "x"])]
    assert started["os"] == []  # no --uid: stays the same user


def test_main_defaults_to_no_limits_and_accepts_a_command_without_the_separator(rlimits, started):
    assert limits.main(["prog", "a"]) == 0
    assert rlimits.calls == [("CORE", (0, 0))]
    assert started["exec"] == [("prog", ["prog", "a"])]


def test_main_switches_user_before_setting_limits(rlimits, started, monkeypatch):
    order = []
    monkeypatch.setattr(os, "setuid", lambda uid: order.append(("uid", uid)))
    rlimits.setrlimit = lambda which, pair: order.append(which)
    limits.main(["--uid", "1500", "--memory-mb", "1", "--", "prog"])
    assert order == [("uid", 1500), "AS", "CORE"]
    assert started["os"][:2] == [("groups", []), ("gid", 1500)]
    limits.main(["--uid", "0", "--", "prog"])  # uid 0 is a user id too
    assert started["os"][-1] == ("gid", 0)


def test_main_needs_a_program(rlimits, started, capsys):
    for argv in ([], ["--"], ["--memory-mb", "5", "--"]):
        with pytest.raises(SystemExit) as stop:
            limits.main(argv)
        assert stop.value.code == 2
        assert "no program given" in capsys.readouterr().err
    assert started["exec"] == [] and rlimits.calls == []


def test_no_debugger_runs_a_python_module_in_this_process_without_debugpy(rlimits, started, monkeypatch):
    import runpy

    ran = []
    monkeypatch.setattr(runpy, "run_module", lambda name, **kw: ran.append((name, kw, list(sys.argv),
                                                                              sys.modules.get("debugpy", "absent"))))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setitem(sys.modules, "debugpy", "placeholder")
    assert limits.main(["--no-debugger", "--memory-mb", "3", "--", sys.executable, "-m", "ipykernel_launcher",
                        "-f", "conn.json"]) == 0
    assert ran == [("ipykernel_launcher", {"run_name": "__main__", "alter_sys": True},
                    ["ipykernel_launcher", "-f", "conn.json"], None)]
    assert started["exec"] == []
    assert ("AS", (3 * MB, 3 * MB)) in rlimits.calls  # limits first, then the module
    limits.main(["--no-debugger", "--", sys.executable, "-m", "mod"])  # no further arguments
    assert ran[-1][0] == "mod" and ran[-1][2] == ["mod"]


@pytest.mark.parametrize("argv", [
    ["--", sys.executable, "-m", "ipykernel_launcher"],  # the debugger is wanted: a new process
    ["--no-debugger", "--", "/bin/sh", "-m", "x"],  # another program: cannot run it in this process
    ["--no-debugger", "--", sys.executable, "-c", "print(1)"],  # not a module
    ["--no-debugger", "--", sys.executable, "-m"],  # no module named
])
def test_other_programs_are_started_with_execvp(rlimits, started, monkeypatch, argv):
    import runpy

    monkeypatch.setattr(runpy, "run_module", lambda *a, **kw: pytest.fail("ran in process"))
    assert limits.main(argv) == 0
    command = argv[argv.index("--") + 1:]
    assert started["exec"] == [(command[0], command)]


def test_help_documents_the_launcher_and_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        limits.main(["--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert text.startswith("usage: python -m course.grading.limits [-h] [--memory-mb MEMORY_MB]")
    assert "Start a program (a student's kernel) under resource limits. positional arguments:" in text
    for line in ("--memory-mb MEMORY_MB address-space limit in MB (0: none)",
                 "--file-size-mb FILE_SIZE_MB largest file it may write, in MB (0: none)",
                 "--processes PROCESSES processes and threads it may run (0: no limit)",
                 "--uid UID first switch to this user id (needs CAP_SETUID)",
                 "--no-debugger start a Python kernel without debugpy",
                 "command -- then the program and its arguments"):
        assert line in text


def test_a_missing_program_is_an_error_with_the_usage(capsys):
    with pytest.raises(SystemExit):
        limits.main([])
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m course.grading.limits") and err.endswith(
        "python -m course.grading.limits: error: no program given\n")


def test_without_resource_there_are_no_limits_and_the_run_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)  # `import resource` fails, as on Windows
    assert limits.apply(memory_mb=100) == ["no resource limits on this system"]


def test_without_posix_the_command_is_not_wrapped(monkeypatch):
    monkeypatch.setattr(os, "name", "nt")
    command = ["python", "-m", "k"]
    wrapped = limits.wrap(command, memory_mb=5)
    assert wrapped == command and wrapped is not command
