"""One document written in a second process while this one writes another (the report command: the Excel
summary beside the Word report, which are independent). Spawned, never forked, so it behaves the same on
Windows, macOS and Linux; the call and its arguments are pickled (module-level function, no lambda).

It runs in this process instead, at `result()`, when there is no spare CPU or the caller says the job is too
small to pay for a process start (an interpreter plus pandas: ~0.5 s). A job that fails in the child raises
the same exception here as it would have in this process (a `Refusal` keeps its problems and exit code); a
child that dies (killed, out of memory) is replaced by running the job here, so the user sees what a run in
one process would have shown.

As with any spawned process, the child imports the program's main module: the `cchc` command and `python -m
cchc_excel` are safe; a script that calls the report must keep its work under `if __name__ == "__main__":`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..core.problems import Refusal


def spare_cpu() -> bool:
    """True when a second process would get a CPU of its own: this process may use at least two (its affinity
    where the system says, else the count) and the others running now leave one free (on a busy machine the
    two processes would share the cores, and the second one's start is a cost, not a gain).

    Linux: the processes runnable at this instant (/proc/loadavg, this one included); elsewhere the 1-minute
    load average where there is one (it lags: a command just finished still counts), else the count alone."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # Windows and macOS have no affinity call
        count = os.cpu_count() or 1
    if count < 2:
        return False
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            running = int(f.read().split()[3].split("/")[0])
        return running <= count - 1
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return True
    return load < count - 0.5   # this process itself counts for about 1 in the load


class _Refused(Exception):
    """A `Refusal` carried back from the child: its problems and exit code, which `Refusal.__init__` does not
    take back as one message (an exception is rebuilt from its args when unpickled)."""

    def __init__(self, problems: list[Any], exit_code: int) -> None:
        super().__init__(problems, exit_code)
        self.problems, self.exit_code = problems, exit_code


def _run(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The child's side: the call, with a refusal made picklable."""
    try:
        return fn(*args, **kwargs)
    except Refusal as exc:
        raise _Refused(exc.problems, exc.exit_code) from None


def _ready(module: str) -> None:
    """Submitted first: the child starts and imports the job's module while the caller works."""
    import importlib

    importlib.import_module(module)


class Background:
    """`fn(*args, **kwargs)` in a second process from `start()`, its value from `result()`; in this process at
    `result()` when `parallel` is False or no second CPU is available. `close()` ends the child (call it in a
    `finally`: an interruption or an error in this process must not leave the child behind)."""

    def __init__(self, fn: Callable[..., Any], *, parallel: bool = True) -> None:
        self.fn = fn
        self.parallel = parallel and spare_cpu()
        self._pool: Any = None
        self._future: Any = None
        self._call: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        if self.parallel:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._pool.submit(_ready, fn.__module__)

    def start(self, *args: Any, **kwargs: Any) -> None:
        self._call = (args, kwargs)
        if self._pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                self._future = self._pool.submit(_run, self.fn, args, kwargs)
            except BrokenProcessPool:   # the child died starting: the job runs here at result()
                self.close()

    def result(self) -> Any:
        if self._call is None:
            raise RuntimeError("Background.result() before start()")
        args, kwargs = self._call
        if self._future is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                return self._future.result()
            except _Refused as exc:
                raise Refusal(*exc.problems, exit_code=exc.exit_code) from None
            except BrokenProcessPool:
                pass    # the child died: run the job here (below) for the outcome a single process would give
            finally:
                self.close()
        return self.fn(*args, **kwargs)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
