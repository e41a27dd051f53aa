"""A computation run in a forked child process while this one goes on writing; its result on demand."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def available() -> bool:
    """Return whether a child can compute beside this process: fork exists, and a second CPU to run it."""
    if not hasattr(os, "fork"):
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus >= 2


class Beside(Generic[T]):
    """`work()` computed in a forked child (it inherits the data, nothing is sent to it); `result()` waits for it.

    The child touches no connection: it computes and sends its result back through a pipe."""

    def __init__(self, work: Callable[[], T], *, name: str) -> None:
        context = multiprocessing.get_context("fork")
        self.name = name
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_run, args=(work, send, self._receive, os.getpid()), name=name, daemon=True
        )
        self._process.start()
        send.close()  # the child's end: a child that dies leaves the pipe at end-of-file
        self._outcome: tuple[bool, Any] | None = None

    def result(self) -> T:
        """Return what `work()` returned in the child; raise RuntimeError if it failed or died."""
        if self._outcome is None:
            try:
                self._outcome = self._receive.recv()
            except EOFError:
                self._process.join()
                raise RuntimeError(f"{self.name} ended without a result (exit code {self._process.exitcode})") from None
            finally:
                self._receive.close()
            self._process.join()
        done, value = self._outcome
        if not done:
            raise RuntimeError(f"{self.name} failed:\n{value}")
        result: T = value
        return result

    def close(self) -> None:
        """Stop the child if it is still running (the seed failed before it needed the result)."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receive.close()


def _run(work: Callable[[], Any], send: Connection, receive: Connection, parent: int) -> None:
    # the parent's end, inherited: closed, so that a parent gone leaves the pipe without a reader
    # and sending fails, where it would block for ever holding the parent's database connection
    receive.close()
    _die_with_parent(parent)
    # no cycle collection in the child: it could finalise objects inherited from the parent (a
    # connection not yet collected there), and the work makes no cycles of its own
    gc.disable()
    try:
        outcome: tuple[bool, Any] = (True, work())
    except BaseException:  # sent back, raised in the parent
        outcome = (False, traceback.format_exc())
    send.send(outcome)
    send.close()


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this child when its parent dies (Linux), so that it does not keep the
    parent's database connection, its transaction and the seed lock open while it computes."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
