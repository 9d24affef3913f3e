"""One document written in a second process while this one writes another (the report command: the Excel
summary beside the Word report, which are independent). Spawned, never forked, so it behaves the same on
Windows, macOS and Linux; the call and its arguments are pickled (module-level function, no lambda).

It runs in this process instead, at `result()`, when there is no spare CPU or the caller says the job is too
small to pay for a process start (an interpreter plus pandas: ~0.5 s). A job that fails in the child raises
the same exception here as it would have in this process (a `Refusal` keeps its problems and exit code); a
child that dies (killed, out of memory) is replaced by running the job here, so the user sees what a run in
one process would have shown.

An argument the caller does not have yet may follow the call (`Later`, then `give`): the child starts on the
rest (the summary's sheets from the aggregation) while this process builds it (the follow-up table).

As with any spawned process, the child imports the program's main module: the `cchc` command and `python -m
cchc_excel` are safe; a script that calls the report must keep its work under `if __name__ == "__main__":`."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any


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


class Later:
    """Stands for a keyword argument of `Background.start` whose value is given afterwards (`Background.give`):
    the job starts in the child without it, and the function receives a callable that returns it (waiting for
    it if need be). The report sends the summary its aggregation at once and the follow-up table, which the
    summary's last sheet alone needs, once built: the child writes the other sheets meanwhile."""


def _laters(kwargs: dict[str, Any]) -> int:
    """How many keyword arguments are `Later`."""
    return sum(1 for v in kwargs.values() if v is Later)


class _Pending:
    """In the child: a `Later` argument's value, read from the caller when the job asks for it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __call__(self) -> Any:
        import pickle

        return pickle.loads(self.conn.recv_bytes())


def _child(conn: Any, module: str) -> None:
    """The child's side: import the job's module while the caller works, take one call, send back its value
    or its exception (a refusal made picklable), then end at once. `os._exit` skips the interpreter's
    teardown of pandas and the rest (measured ~0.5 s at 4,000 units, which the caller would wait for): the job
    has closed its own files and nothing else is left to flush."""
    import gc
    import importlib
    import pickle

    try:
        importlib.import_module(module)
        job = conn.recv_bytes()
        if job:
            fn, args, kwargs = pickle.loads(job)
            kwargs = {k: _Pending(conn) if v is Later else v for k, v in kwargs.items()}
            # the modules and the call's arguments live until the end: kept out of the collector's full passes
            gc.freeze()
            try:
                reply: tuple[str, Any] = ("value", fn(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller, which raises it
                reply = ("error", exc)
            try:   # read back here: an exception that pickles but cannot be rebuilt fails here, not there
                payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.loads(payload)
            except Exception:  # noqa: BLE001 - then its kind and text instead
                payload = pickle.dumps(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
            conn.send_bytes(payload)
        conn.close()
    finally:
        os._exit(0)


class Background:
    """`fn(*args, **kwargs)` in a second process from `start()`, its value from `result()`; in this process at
    `result()` when `parallel` is False or no second CPU is available. `close()` waits for the child to end
    (call it in a `finally`: an interruption or an error in this process must not leave the child behind). A
    job sent whole is finished first, so its file is never removed while written; a job still waiting for its
    `Later` value is ended at once (it cannot finish: what it wrote is the caller's to throw away)."""

    def __init__(self, fn: Callable[..., Any], *, parallel: bool = True) -> None:
        self.fn = fn
        self.parallel = parallel and spare_cpu()
        self._process: Any = None
        self._conn: Any = None
        self._sender: Any = None
        self._call: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self._later: list[Any] = []   # the value given for a `Later` argument (empty: not given yet)
        if self.parallel:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            self._conn, theirs = ctx.Pipe()
            self._process = ctx.Process(target=_child, args=(theirs, fn.__module__), name="cchc-background",
                                        daemon=True)
            self._process.start()
            theirs.close()

    def start(self, *args: Any, **kwargs: Any) -> None:
        """Send the call; a keyword argument may be `Later`: its value follows with `give`."""
        if _laters(kwargs) > 1:
            raise ValueError("Background.start takes one Later argument at most")
        self._call = (args, kwargs)
        if self._process is not None:
            import pickle

            # Pickled here, so the arguments are taken as they are now (the caller goes on using them), and
            # written from a thread: the child may still be importing, and a large call fills the pipe.
            self._post(pickle.dumps((self.fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL))

    def give(self, value: Any) -> None:
        """The value of the call's `Later` argument."""
        if not self._waiting():
            raise RuntimeError("Background.give() without a Later argument waiting for it")
        self._later.append(value)
        if self._process is not None:
            import pickle

            self._post(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def _post(self, payload: bytes) -> None:
        """Send `payload` from a thread, after what was sent before it."""
        self._sender = threading.Thread(target=self._send, args=(payload, self._sender),
                                        name="cchc-background-send", daemon=True)
        self._sender.start()

    def _send(self, payload: bytes, before: Any = None) -> None:
        if before is not None:
            before.join()
        try:
            self._conn.send_bytes(payload)
        except (OSError, EOFError):   # the child died: result() sees it and runs the job here
            pass

    def _waiting(self) -> bool:
        """A `Later` argument whose value was not given."""
        return self._call is not None and _laters(self._call[1]) > 0 and not self._later

    def _reply(self) -> tuple[str, Any] | None:
        """The child's reply, or None when it ended without one (killed, out of memory, died starting)."""
        import pickle
        from multiprocessing.connection import wait

        if self._sender is not None:
            self._sender.join()
        try:
            while True:
                ready = wait([self._conn, self._process.sentinel])
                if self._conn in ready:
                    return pickle.loads(self._conn.recv_bytes())
                if not self._conn.poll():
                    return None
        except (OSError, EOFError):
            return None

    def result(self) -> Any:
        if self._call is None:
            raise RuntimeError("Background.result() before start()")
        if self._waiting():
            raise RuntimeError("Background.result() before give()")
        args, kwargs = self._call
        if self._process is not None:
            try:
                reply = self._reply()
            finally:
                self.close()
            if reply is not None:
                kind, value = reply
                if kind == "value":
                    return value
                raise value
            # the child died: run the job here, for the outcome a single process would give
        given = self._later[0] if self._later else None
        return self.fn(*args, **{k: (lambda: given) if v is Later else v for k, v in kwargs.items()})

    def close(self) -> None:
        if self._process is None:
            return
        if self._waiting():
            # the caller stopped before it had the value (an error, Ctrl-C): the job cannot finish and its output
            # is thrown away, so the child is ended now rather than left to write every other sheet first
            self._process.terminate()
        elif self._sender is None:
            self._post(b"")   # no job sent: the child ends when told so
        self._sender.join()   # a send to an ended child fails, and _send lets it
        self._process.join()
        self._conn.close()
        self._process = None
