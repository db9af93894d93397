"""What one audited request costs must not grow with the log, and a reader must not hold up
the audit writers (the operator API appends an entry on every request)."""

import threading

from sqlalchemy import event, select

from yishu.access import audit, audit_group, integrity
from yishu.db.models import AuditEntry


def test_appending_loads_the_latest_entry_only_whatever_the_log_length(fresh_res):
    for i in range(40):
        audit_group.record(fresh_res, "api.request", f"/r/{i}", actor="op")
    loaded = []

    def count(target, _context):
        loaded.append(target.seq)

    event.listen(AuditEntry, "load", count)
    try:
        audit_group.record(fresh_res, "api.request", "/r/last", actor="op")
    finally:
        event.remove(AuditEntry, "load", count)
    assert len(loaded) <= 2, f"appending one entry loaded {len(loaded)} entries"
    assert [e.subject for e in audit.entries(fresh_res.db)][-2:] == ["/r/39", "/r/last"]


def test_an_open_read_does_not_hold_up_an_audited_act(fresh_res):
    for subject in ("/first", "/second"):
        audit_group.record(fresh_res, "api.request", subject, actor="op")
    done = threading.Event()
    with fresh_res.db.session() as reader:  # a request mid-way through reading the log
        rows = reader.connection().execute(select(AuditEntry.seq).order_by(AuditEntry.seq))
        assert rows.fetchone() == (1,)  # the statement is still open: it reads under a lock
        writer = threading.Thread(target=lambda: (
            audit_group.record(fresh_res, "api.request", "/third", actor="op"), done.set()))
        writer.start()
        # a rollback journal makes the writer wait for this reader (up to the busy timeout)
        finished = done.wait(10)
    writer.join()
    assert finished, "the audit writer waited for a reader to finish"
    assert [e.subject for e in audit.entries(fresh_res.db)] == ["/first", "/second", "/third"]


def test_writers_queued_from_many_threads_all_land_in_one_chain(fresh_res):
    audit_group.record(fresh_res, "api.request", "/start", actor="op")

    def requests(worker):
        for i in range(10):
            audit_group.record(fresh_res, "api.request", f"/w{worker}/{i}", actor="op")

    threads = [threading.Thread(target=requests, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(audit.entries(fresh_res.db)) == 61
    assert integrity.verify(fresh_res) == []


def test_entries_asked_for_while_a_transaction_is_written_share_the_next_one(fresh_res,
                                                                              monkeypatch):
    audit_group.record(fresh_res, "api.request", "/start", actor="op")
    release, held, signed, groups = threading.Event(), threading.Event(), [], []
    real_queued, real_sign, real_commit = audit.queued, audit.sign_head, audit_group._commit_group

    def slow_queued(res):  # the first writer is held before its transaction
        held.set()
        release.wait(10)
        return real_queued(res)

    monkeypatch.setattr(audit, "queued", slow_queued)
    monkeypatch.setattr(audit_group, "_commit_group", lambda res, group: (
        groups.append([w.args[1] for w in group]), real_commit(res, group))[1])
    monkeypatch.setattr(audit, "sign_head", lambda res, seq, h: (signed.append(seq),
                                                                 real_sign(res, seq, h)))
    threads = [threading.Thread(target=audit_group.record, args=(fresh_res, "api.request", f"/{i}"),
                                kwargs={"actor": "op"}) for i in range(3)]
    threads[0].start()
    key = (fresh_res.db.url, str(fresh_res.storage.audit_checkpoint()))
    assert held.wait(10)  # the writer took its group, [/0], and is held before writing it
    for t in threads[1:]:
        t.start()
    while len(audit_group._WRITERS[key].waiting) < 2:  # /1 and /2 wait behind it
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join()
    assert len(groups) == 2 and groups[0] == ["/0"]  # two transactions for three entries
    assert sorted(groups[1]) == ["/1", "/2"]
    assert signed[-1] == 4 and len(signed) <= 2  # a signature may cover both transactions
    assert sorted(e.subject for e in audit.entries(fresh_res.db)[1:]) == ["/0", "/1", "/2"]
    assert integrity.verify(fresh_res) == []


def test_a_group_of_entries_is_one_chain_in_order(fresh_res):
    audit_group.record(fresh_res, "x", "first")
    group = [audit_group._Waiting(fresh_res, ("api.request", f"/g/{i}", {"i": i}, "bench"))
             for i in range(4)]
    assert audit_group._commit_group(fresh_res, group) is None
    log = audit.entries(fresh_res.db)
    assert [e.subject for e in log[-4:]] == [f"/g/{i}" for i in range(4)]
    assert [e.seq for e in log[-4:]] == [w.entry.seq for w in group]
    assert [e.prev_hash for e in log[-4:]] == [log[-5].hash] + [e.hash for e in log[-4:-1]]
    audit.sign_head(fresh_res, log[-1].seq, log[-1].hash)
    assert integrity.verify(fresh_res) == []
