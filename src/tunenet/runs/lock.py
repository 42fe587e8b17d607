"""The search lock: one search at a time on a run directory.

`tunenet search` (new, `--resume` or `--overwrite`) holds an exclusive `fcntl.flock` on
`<run>/.search.lock` from the moment it opens the run until it ends. Another search on the same
run is refused, naming the process that holds the lock. The workers of that search
(`--workers N`, `tunenet worker`) join the run without the lock, and the commands that read a run
(`report`, `refine`, `learning-curve`) never take it.

The kernel drops the lock when its process ends, even by kill -9: a lock file left behind by a
killed search is taken over without a word. A search that hands over to a fresh process of
itself (`os.execv`, tuning/handover.py) passes the lock on: its file descriptor survives the
exec, and `INHERITED_ENV` tells the successor which one it is, so no other search can slip in.

The file holds the holder's pid, command and start time, for the message; it is never deleted
(deleting a lock file races with a process opening it). Format reference: docs/run-format.md.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shlex
import socket
import stat
import sys
import time
from pathlib import Path

from tunenet.errors import RunDirError
from tunenet.runs.files import now

LOCK_NAME = ".search.lock"
INFO_LIMIT = 4096  # bytes of the lock file read for the message
# A process that only looks (`check_free`) holds the lock for microseconds: retry for this long.
RETRY_SECONDS = 0.5

INHERITED_ENV = "TUNENET_SEARCH_LOCK"  # "<fd>:<lock file>" the process holds, across an exec

_held: dict[str, "SearchLock"] = {}  # the locks this process holds, by lock file


class SearchLock:
    """The lock one search holds on its run directory (an open file descriptor)."""

    def __init__(self, path: Path, fd: int):
        self.path, self.fd = path, fd

    def record(self) -> None:
        """Write who holds the lock (pid, command, start time), for another search's message."""
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, (json.dumps(_own_info()) + "\n").encode("utf-8"), 0)

    def release(self) -> None:
        _held.pop(str(self.path), None)
        if os.environ.get(INHERITED_ENV) == f"{self.fd}:{self.path}":
            del os.environ[INHERITED_ENV]
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)


def lock_path(run_path: Path) -> Path:
    return Path(run_path) / LOCK_NAME


def acquire(run_path: Path) -> SearchLock:
    """Take the run's search lock, or raise RunDirError naming the search that holds it.

    The run directory must exist. A lock this process holds already is returned as it is. The
    file's content is left as it is until `SearchLock.record`: a search refused after taking the
    lock (a damaged run) changes nothing.
    """
    path = lock_path(run_path)
    if str(path) in _held:
        return _held[str(path)]
    fd = _inherited(path)
    if fd is None:
        fd = _open(path, os.O_RDWR | os.O_CREAT)
        if not _try_lock(fd, fcntl.LOCK_EX, patience=RETRY_SECONDS):
            os.close(fd)
            raise RunDirError(busy_message(Path(run_path), _holder(path)))
    os.set_inheritable(fd, True)  # kept by os.execv; subprocess.Popen still closes it
    os.environ[INHERITED_ENV] = f"{fd}:{path}"
    _held[str(path)] = SearchLock(path, fd)
    return _held[str(path)]


def release(run_path: Path) -> None:
    """Give back the run's search lock, if this process holds it."""
    held = _held.get(str(lock_path(run_path)))
    if held is not None:
        held.release()


def check_free(run_path: Path) -> None:
    """Raise RunDirError when another process holds the run's search lock. Creates nothing."""
    path = lock_path(run_path)
    if str(path) in _held or not os.path.lexists(path) or _inherited(path) is not None:
        return
    fd = _open(path, os.O_RDONLY)
    try:
        if not _try_lock(fd, fcntl.LOCK_SH, patience=0):
            raise RunDirError(busy_message(Path(run_path), _holder(path)))
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def busy_message(run_path: Path, holder: dict) -> str:
    """What a second search on a running run is told: who holds it and what to do."""
    pid = holder.get("pid")
    details = [f"pid {pid}" if isinstance(pid, int) else "pid unknown"]
    for key, label in (("command", ""), ("host", "on "), ("started_at", "started ")):
        if isinstance(holder.get(key), str) and holder[key]:
            details.append(f"{label}{holder[key][:200]}")
    stop = f"stop it (kill {pid}) " if isinstance(pid, int) else "stop it "
    return (
        f"{run_path}: another search is running on this run ({', '.join(details)}). "
        f"Wait for it to end, or {stop}and continue with --resume; report, refine and "
        "learning-curve can read the run meanwhile."
    )


def _open(path: Path, flags: int) -> int:
    """The lock file, never through a symbolic link, and only a regular file."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RunDirError(
                f"{path}: is a symbolic link; the search lock must be a plain file. Remove it."
            ) from None
        raise RunDirError(f"{path}: cannot be opened ({error.strerror}).") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RunDirError(f"{path}: is not a regular file; the search lock must be. Remove it.")
    return fd


def _inherited(path: Path) -> int | None:
    """The descriptor of `path` this process inherited from the search it continues, if any."""
    fd_text, _, named = os.environ.get(INHERITED_ENV, "").partition(":")
    if named != str(path) or not fd_text.isdigit():
        return None
    try:
        held, current = os.fstat(int(fd_text)), os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    same = (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)
    return int(fd_text) if same else None


def _try_lock(fd: int, kind: int, patience: float) -> bool:
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _holder(path: Path) -> dict:
    """The holder's pid, command and start time, as it wrote them (it may be writing them)."""
    for _ in range(10):
        try:
            with open(path, "rb") as file:
                found = json.loads(file.read(INFO_LIMIT).decode("utf-8"))
            if isinstance(found, dict):
                return found
        except (OSError, ValueError, RecursionError):
            pass
        time.sleep(0.05)
    return {}


def _own_info() -> dict:
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    argv = [*(["python", "-c"] if program in ("-c", "") else [program]), *sys.argv[1:]]
    return {
        "format_version": 1,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": shlex.join(argv)[:1000],
        "started_at": now(),
    }
