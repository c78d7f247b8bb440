"""Start a program (a student's kernel) under resource limits.

    python -m course.grading.limits --memory-mb 2048 --file-size-mb 100 -- python -m ipykernel_launcher ...

sets the limits on this process and then replaces it with the program (same process id), so the
kernel manager sees and stops the kernel as usual. The limits (POSIX `setrlimit`):

- memory: the address space the kernel may use; past it, allocations fail and Python raises
  MemoryError in the student's cell instead of the instructor's machine running out of memory;
- file size: no single file written larger than this, so a runaway loop cannot fill the disk;
- processes: how many processes and threads it may run (in the sandbox, counted per sandbox);
- no core dumps;
- with `--no-debugger`, the kernel starts without debugpy (grading never debugs, and importing
  it costs about a third of a second per submission); a Python module command is then run in
  this same process instead of a new one.

On systems without `resource` (Windows) the program runs without limits, and the run says so.
"""
from __future__ import annotations

import argparse
import os
import sys

MB = 1024 * 1024


def become(uid: int) -> None:
    """Switch to an unprivileged user id of its own (the sandbox does this when the grader is root)."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def apply(memory_mb: int = 0, file_size_mb: int = 0, processes: int = 0) -> list[str]:
    """Set the limits on the current process; return what was set, for the record."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return ["no resource limits on this system"]
    done = []

    def lower(which, value):  # soft and hard both: the student's code cannot raise it again
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))

    if memory_mb > 0:
        lower(resource.RLIMIT_AS, memory_mb * MB)
        done.append(f"memory {memory_mb} MB")
    if file_size_mb > 0:
        lower(resource.RLIMIT_FSIZE, file_size_mb * MB)
        done.append(f"file size {file_size_mb} MB")
    if processes > 0:  # processes and threads of this user (in the sandbox: of this sandbox)
        lower(resource.RLIMIT_NPROC, processes)
        done.append(f"{processes} processes")
    lower(resource.RLIMIT_CORE, 0)
    return done


def wrap(command: list[str], memory_mb: int = 0, file_size_mb: int = 0, debugger: bool = True) -> list[str]:
    """`command`, prefixed so that it starts under these limits."""
    if os.name != "posix":  # pragma: no cover
        return list(command)
    return [sys.executable, "-m", "course.grading.limits", "--memory-mb", str(memory_mb),
            "--file-size-mb", str(file_size_mb), *([] if debugger else ["--no-debugger"]), "--", *command]


def _same_python(program: str) -> bool:
    try:
        return os.path.samefile(program, sys.executable)
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.grading.limits", description=__doc__.split("\n")[0])
    parser.add_argument("--memory-mb", type=int, default=0, help="address-space limit in MB (0: none)")
    parser.add_argument("--file-size-mb", type=int, default=0, help="largest file it may write, in MB (0: none)")
    parser.add_argument("--processes", type=int, default=0, help="processes and threads it may run (0: no limit)")
    parser.add_argument("--uid", type=int, help="first switch to this user id (needs CAP_SETUID)")
    parser.add_argument("--no-debugger", action="store_true", help="start a Python kernel without debugpy")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the program and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no program given")
    if args.uid is not None:
        become(args.uid)
    apply(args.memory_mb, args.file_size_mb, args.processes)
    if args.no_debugger and len(command) > 2 and command[1] == "-m" and _same_python(command[0]):
        import runpy

        sys.modules["debugpy"] = None  # `import debugpy` now fails, which ipykernel handles
        sys.argv = [command[2], *command[3:]]
        runpy.run_module(command[2], run_name="__main__", alter_sys=True)
        return 0
    os.execvp(command[0], command)
    return 0  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main())
