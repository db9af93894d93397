"""Group commit of the audit entries of acts that change no table (every operator API request,
each console sign-in): `record` from a thread, `record_async` from a coroutine. Each caller is
answered once its entry is committed and a signed head covers it (see audit.py), and the
fixed cost of an entry (the log's checks, a commit, a signature) is shared by every entry
asked for while the previous group was being written."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from dataclasses import dataclass, field

from yishu.access import audit
from yishu.access.audit import AuditRefused, Recorded
from yishu.resources import Resources

WAIT_SECONDS = 180  # longer than a database's busy timeout: past it, the writer is broken
IDLE_SECONDS = 30  # a writer's threads end after this long without entries
# when the last group held more than one entry (requests keep coming), the next one waits this
# long for more: a commit and a signature cost about 3 ms of CPU whatever the group's size, and
# the wait adds a few ms to answers that take tens of ms under such load (`make bench-api`)
LINGER_SECONDS = 0.004


@dataclass
class _Waiting:
    """An entry waiting for the transaction that records it and a signed head covering it:
    a thread waits on `settled`, a coroutine on `future` (of `loop`)."""

    res: Resources
    args: tuple
    entry: Recorded | None = None
    error: BaseException | None = None
    settled: threading.Event = field(default_factory=threading.Event)
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future | None = None


def _settle(group: list[_Waiting], error: BaseException | None = None) -> None:
    """Answer the group's callers: one wake-up of each event loop for all its coroutines."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Waiting]] = {}
    for w in group:
        w.error = error
        if w.loop is None:
            w.settled.set()
        else:
            by_loop.setdefault(w.loop, []).append(w)
    for loop, waiting in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody to answer
            loop.call_soon_threadsafe(_resolve, waiting)


def _resolve(waiting: list[_Waiting]) -> None:
    for w in waiting:
        if not w.future.done():  # a cancelled request (its client went away) is not answered
            if w.error is None:
                w.future.set_result(w.entry)
            else:
                w.future.set_exception(w.error)


class _Writer:
    """This process's writer to one log: a committer thread writes every waiting entry in one
    transaction (one check of the log, one commit), and a sealer thread signs the latest head
    committed, one signature for every group committed by then. The next group commits while
    one is signed, and a group holds every request that arrived while the previous one was
    written (and, under load, for LINGER_SECONDS more), so the fixed cost of an entry is shared
    by more of them the busier the API is."""

    def __init__(self, key: tuple[str, str]):
        self.key = key
        self.waiting: list[_Waiting] = []  # for the next transaction
        self.unsigned: list[_Waiting] = []  # committed, waiting for a signed head
        self.to_commit = threading.Condition(_WRITERS_LOCK)
        self.to_sign = threading.Condition(_WRITERS_LOCK)
        self.closing = False
        self.busy = False  # the last group held more than one entry
        for name, loop in (("commit", self._commit_forever), ("sign", self._sign_forever)):
            threading.Thread(target=loop, name=f"yishu-audit-{name}", daemon=True).start()

    def _commit_forever(self) -> None:
        while True:
            with _WRITERS_LOCK:
                while not self.waiting:
                    if not self.to_commit.wait(IDLE_SECONDS) and not self.waiting:
                        _WRITERS.pop(self.key, None)  # the next entry starts a new writer
                        self.closing = True
                        self.to_sign.notify()
                        return
                if self.busy:  # more entries are on their way: a bigger group for a few ms
                    deadline = time.monotonic() + LINGER_SECONDS
                    while (left := deadline - time.monotonic()) > 0:
                        self.to_commit.wait(left)
                group, self.waiting = _same_resources(self.waiting)
                self.busy = len(group) > 1
            try:
                error = _commit_group(group[0].res, group)
            except BaseException as exc:  # noqa: BLE001 - never leave a caller waiting
                error = exc
            with _WRITERS_LOCK:
                if error is None:
                    self.unsigned.extend(group)
                    self.to_sign.notify()
            if error is not None:
                _settle(group, error)

    def _sign_forever(self) -> None:
        while True:
            with _WRITERS_LOCK:
                while not self.unsigned:
                    if self.closing:
                        return
                    self.to_sign.wait()
                batch, self.unsigned = _same_resources(self.unsigned)
            error = None
            try:  # committed in list order: the last entry's head covers the whole batch
                audit.sign_head(batch[0].res, batch[-1].entry.seq, batch[-1].entry.hash)
            except BaseException as exc:  # noqa: BLE001 - committed, but no signed head covers
                error = exc  # them: each caller is told
            _settle(batch, error)


def _same_resources(entries: list[_Waiting]) -> tuple[list[_Waiting], list[_Waiting]]:
    """The leading entries asked for with the same resources (so the same keys), the rest."""
    first = entries[0].res
    ends = next((i for i, w in enumerate(entries) if w.res is not first), len(entries))
    return entries[:ends], entries[ends:]


_WRITERS: dict[tuple[str, str], _Writer] = {}
_WRITERS_LOCK = threading.Lock()  # guards _WRITERS and every writer's lists


def _forget_writers() -> None:
    """A forked child (Airflow's task runner) has none of its parent's threads: new writers."""
    global _WRITERS_LOCK
    _WRITERS.clear()
    _WRITERS_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_writers)


def record(res: Resources, action: str, subject: str, detail: dict | None = None,
           actor: str | None = None) -> Recorded:
    """Append an entry for an act that changes no table, and return once it is committed and
    a signed head covers it (or raise, and nothing of it was answered): group commit by this
    process's writer for the log (`_Writer`)."""
    me = _Waiting(res, (action, subject, detail, actor))
    _queue(me)
    if not me.settled.wait(WAIT_SECONDS):
        raise _no_answer()
    if me.error is not None:
        raise me.error
    return me.entry


async def record_async(res: Resources, action: str, subject: str, detail: dict | None = None,
                       actor: str | None = None) -> Recorded:
    """`record` for a coroutine: the same group commit, awaited without holding a thread (the
    operator API answers its requests on the event loop)."""
    loop = asyncio.get_running_loop()
    me = _Waiting(res, (action, subject, detail, actor), loop=loop, future=loop.create_future())
    _queue(me)
    try:
        return await asyncio.wait_for(me.future, WAIT_SECONDS)
    except TimeoutError:
        raise _no_answer() from None


def _queue(me: _Waiting) -> None:
    key = (me.res.db.url, str(me.res.storage.audit_checkpoint()))
    with _WRITERS_LOCK:
        writer = _WRITERS.get(key) or _WRITERS.setdefault(key, _Writer(key))
        writer.waiting.append(me)
        writer.to_commit.notify()


def _no_answer() -> AuditRefused:
    return AuditRefused(f"the audit writer did not answer in {WAIT_SECONDS} s (is the "
                        "database locked?); nothing was answered")


def _commit_group(res: Resources, group: list[_Waiting]) -> BaseException | None:
    """The group's entries in one transaction (`audit.extend`), on a plain connection: these
    are SQL statements only. Returns what stopped it (then none of them was recorded)."""
    try:
        with audit.queued(res), res.db.connect() as c:
            entries = audit.extend(res, c, [w.args for w in group])
            c.commit()
    except BaseException as exc:  # noqa: BLE001 - given to every caller of the group
        return exc
    for w, entry in zip(group, entries, strict=True):
        w.entry = entry  # what `record` returns: not in a session
    return None
