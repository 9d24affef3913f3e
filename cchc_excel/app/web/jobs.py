"""Long work off the request: a batch import, building the report, generating the forms. Each job runs in a
thread, one at a time per kind of work (the store takes one writer at a time anyway), and records its
progress; the page polls `/viec/<id>.json`. Jobs live in memory: a restarted server forgets them, while
what they did is in the store, the journal and the output folders."""

from __future__ import annotations

import secrets
import threading
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ...core.problems import Refusal


@dataclass
class Job:
    id: str
    kind: str                      # import | report | forms
    user: str
    title: str
    total: int = 0
    done: int = 0
    state: str = "waiting"         # waiting | running | done | failed
    message: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    started: str = field(default_factory=lambda: datetime.now().strftime("%d/%m/%Y %H:%M:%S"))

    def public(self, since: int = 0) -> dict[str, Any]:
        d = asdict(self)
        d["items"] = self.items[since:]
        d["since"] = since
        return d


class Jobs:
    KEEP = 50

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._threads: list[threading.Thread] = []

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        return list(reversed(self._jobs.values()))[:10]

    def start(self, kind: str, user: str, title: str, work: Callable[[Job], None]) -> Job:
        job = Job(id=secrets.token_hex(8), kind=kind, user=user, title=title)
        with self._guard:
            self._jobs[job.id] = job
            while len(self._jobs) > self.KEEP:
                self._jobs.pop(next(iter(self._jobs)))
            lock = self._locks.setdefault(kind, threading.Lock())

        def run() -> None:
            with lock:
                job.state = "running"
                try:
                    work(job)
                    job.state = "done"
                except Refusal as exc:
                    job.state = "failed"
                    job.message = "; ".join(p.message for p in exc.problems) if hasattr(exc, "problems") else str(exc)
                except Exception as exc:  # noqa: BLE001 - a job must end with a message, not a dead thread
                    job.state = "failed"
                    job.message = f"Lỗi khi thực hiện: {exc}"
                    traceback.print_exc()

        thread = threading.Thread(target=run, name=f"cchc-{kind}-{job.id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return job

    def wait(self, timeout: float = 60.0) -> None:
        """For tests: wait until every job has ended."""
        for t in list(self._threads):
            t.join(timeout)
