"""Start an agent in a pane: `python -m sessions.launch SPEC_FILE`.

The spec file (JSON, mode 0600, written by the engine) holds the argv, the
environment and the working directory. The argv travels in the file, not on
tmux's command line, because tmux reparses its own arguments (one ending in
`;` ends a command) and a prompt must arrive byte for byte. The file is read
and deleted before anything else, so secrets such as API keys never sit on a
command line (`ps` shows argv to every user) and nothing passes through a
shell. Then the agent replaces this process.

Background runs add `stdout` (a file the agent's stdout is appended to, for
the engine to tail), `stdin` (a file to read instead of the terminal) and
`mirror` (a child process shows a readable view of that file in the pane,
`sessions.stream_view`, so a person can watch; the agent's stderr stays on
the pane).
Stdlib only: this runs before every agent start.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

# The umask this process had before `private_umask`, passed on to what it launches.
_person_umask: int | None = None


def private_umask() -> None:
    """From now on, files and directories this process creates are the user's alone
    (umask 0o077: logs, DuckDB and its WAL, spool files). The umask it had before is the
    person's own: `write_spec` passes it on, so an agent creates files in a project as
    the person's shell would, and `person_umask` gives it to other children (git)."""
    global _person_umask
    old = os.umask(0o077)
    if _person_umask is None:
        _person_umask = old


def person_umask() -> int:
    """The umask for a child that works on the person's files; -1 (keep this process's,
    as `subprocess` takes it) unless `private_umask` changed it."""
    return -1 if _person_umask is None else _person_umask


def write_spec(path: os.PathLike[str] | str, spec: dict[str, object]) -> list[str]:
    """Write a launch spec (0600; it may hold API keys) and return the argv that
    starts it: `python -m sessions.launch SPEC_FILE`. `spec` has `argv`, `env`,
    `cwd`, and for background runs `stdout`, `stdin`, `mirror`; `umask` is added
    (the person's, see `private_umask`) unless given."""
    if _person_umask is not None and "umask" not in spec:
        spec = {**spec, "umask": _person_umask}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    return [sys.executable, "-m", "sessions.launch", os.fspath(path)]


def failure_file(spec_path: str) -> str:
    """Where a launch that failed leaves its exit status and reason for the engine."""
    return spec_path.removesuffix(".json") + ".failed"


def read_failure(spec_path: os.PathLike[str] | str) -> tuple[int | None, str] | None:
    """(exit status, reason) a launch of `spec_path` left when it could not start its
    program, or None. Read once: the file is removed. Sessions and background runs
    both learn a failed start this way."""
    path = failure_file(os.fspath(spec_path))
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(64 * 1024)
    except OSError:
        return None
    with contextlib.suppress(OSError):
        os.unlink(path)
    first, _, reason = text.partition("\n")
    code = int(first) if first.strip().isdigit() else None
    return code, reason.strip() or "could not start"


def _fail(message: str, code: int, spec_path: str | None = None) -> int:
    sys.stderr.write(f"podium: {message}\n")
    sys.stderr.flush()
    if spec_path:
        # tmux does not always learn a dead pane's status (seen with 3.3a):
        # the engine reads it from here instead.
        with contextlib.suppress(OSError), open(failure_file(spec_path), "w") as fh:
            fh.write(f"{code}\n{message}\n")
    # tmux marks a pane dead as soon as its process ends and may drop output
    # it has not read yet; a moment's pause keeps the reason on screen.
    time.sleep(0.5)
    return code


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m sessions.launch SPEC_FILE\n")
        return 2
    spec_path = argv[0]
    try:
        with open(spec_path, encoding="utf-8") as fh:
            spec = json.load(fh)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot read launch spec {spec_path}: {exc}", 126)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(spec_path)
    command = [str(a) for a in spec.get("argv") or []]
    if not command:
        return _fail(f"launch spec {spec_path} has no argv", 126, spec_path)
    env = {str(k): str(v) for k, v in (spec.get("env") or {}).items()}
    # tmux gave this process its pane's TMUX and TMUX_PANE (the spec's, from the
    # caller, were dropped as stale): the program runs in this pane, so it sees them
    # as any program in a tmux pane does.
    for name in ("TMUX", "TMUX_PANE"):
        if name in os.environ:
            env[name] = os.environ[name]
    umask = spec.get("umask")
    if isinstance(umask, int) and 0 <= umask <= 0o777:
        os.umask(umask)
    cwd = spec.get("cwd") or os.getcwd()
    try:
        os.chdir(cwd)
    except OSError as exc:
        return _fail(f"cannot enter {cwd}: {exc.strerror}", 126, spec_path)
    if spec.get("stdout"):
        try:
            _redirect(spec, spec_path)
        except OSError as exc:
            return _fail(f"cannot open {exc.filename}: {exc.strerror}", 126, spec_path)
    try:
        os.execvpe(command[0], command, env)
    except FileNotFoundError:
        return _fail(
            f"cannot start {command[0]!r}: not found on PATH. "
            "Install it or set its path in podium's config (see `podium doctor`).",
            127,
            spec_path,
        )
    except OSError as exc:
        return _fail(f"cannot start {command[0]!r}: {exc.strerror}", 126, spec_path)
    return 0  # not reached: exec replaced us


def _redirect(spec: dict[str, object], spec_path: str) -> None:
    """Point stdin/stdout at the spec's files; fork the pane's viewer first if asked."""
    out_path = str(spec["stdout"])
    out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    if spec.get("mirror"):
        tty = os.dup(1)
        agent_pid = os.getpid()  # this process becomes the agent by exec
        if os.fork() == 0:  # the viewer: never returns into the launcher
            code = 0
            try:
                os.close(out)
                # Only in the viewer's fork: the launcher itself execs at once.
                from sessions.stream_view import follow

                follow(out_path, tty, agent_pid)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(tty)
    os.dup2(out, 1)
    os.close(out)
    if spec.get("stdin"):
        inp = os.open(str(spec["stdin"]), os.O_RDONLY)
        os.dup2(inp, 0)
        os.close(inp)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
