"""What one audited request costs must not grow with the log, and a reader must not hold up
the audit writers (the operator API appends an entry on every request)."""

import threading

from sqlalchemy import event, select

from yishu.access import audit, integrity
from yishu.db.models import AuditEntry


def test_appending_loads_the_latest_entry_only_whatever_the_log_length(fresh_res):
    for i in range(40):
        audit.record(fresh_res, "api.request", f"/r/{i}", actor="op")
    loaded = []

    def count(target, _context):
        loaded.append(target.seq)

    event.listen(AuditEntry, "load", count)
    try:
        audit.record(fresh_res, "api.request", "/r/last", actor="op")
    finally:
        event.remove(AuditEntry, "load", count)
    assert len(loaded) <= 2, f"appending one entry loaded {len(loaded)} entries"
    assert [e.subject for e in audit.entries(fresh_res.db)][-2:] == ["/r/39", "/r/last"]


def test_an_open_read_does_not_hold_up_an_audited_act(fresh_res):
    for subject in ("/first", "/second"):
        audit.record(fresh_res, "api.request", subject, actor="op")
    done = threading.Event()
    with fresh_res.db.session() as reader:  # a request mid-way through reading the log
        rows = reader.connection().execute(select(AuditEntry.seq).order_by(AuditEntry.seq))
        assert rows.fetchone() == (1,)  # the statement is still open: it reads under a lock
        writer = threading.Thread(target=lambda: (
            audit.record(fresh_res, "api.request", "/third", actor="op"), done.set()))
        writer.start()
        # a rollback journal makes the writer wait for this reader (up to the busy timeout)
        finished = done.wait(10)
    writer.join()
    assert finished, "the audit writer waited for a reader to finish"
    assert [e.subject for e in audit.entries(fresh_res.db)] == ["/first", "/second", "/third"]


def test_writers_queued_from_many_threads_all_land_in_one_chain(fresh_res):
    audit.record(fresh_res, "api.request", "/start", actor="op")

    def requests(worker):
        for i in range(10):
            audit.record(fresh_res, "api.request", f"/w{worker}/{i}", actor="op")

    threads = [threading.Thread(target=requests, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(audit.entries(fresh_res.db)) == 61
    assert integrity.verify(fresh_res) == []
