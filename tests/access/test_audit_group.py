"""Group commit of the API's entries (`audit_group.record`), tried: a committer thread writes
the groups and a sealer thread signs their heads meanwhile, so these check that no caller is
ever answered before its entry is committed and covered by a signed head, whatever the threads and
processes do, and that a writer killed between its commit and its signature leaves a log that
verifies and that the next writer extends."""

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from yishu.access import audit, audit_group, checkpoint, integrity

# a writer in a process of its own, on the same state folder: records entries from threads and
# checks each one is covered by the signed head the moment record() returns (as an answer is)
_WRITER = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from yishu.access import audit, audit_group, integrity
    from yishu.resources import Resources
    from yishu.settings import Settings

    res = Resources.from_settings(Settings.for_home(Path(sys.argv[1])))
    uncovered = []

    def write(worker):
        for i in range(int(sys.argv[2])):
            entry = audit_group.record(res, "api.request", f"/p{sys.argv[3]}/{worker}/{i}",
                                       actor="op")
            if integrity.signed_head(res).seq < entry.seq:
                uncovered.append(entry.seq)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.exit(f"answered before a signed head covered them: {uncovered}" if uncovered else 0)
""")


def _writer(res, entries: int, name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(res.storage.home),
                             str(entries), name], stderr=subprocess.PIPE, text=True)


def test_every_entry_is_signed_before_record_returns_across_threads_and_processes(fresh_res):
    audit_group.record(fresh_res, "api.request", "/start", actor="op")
    others = [_writer(fresh_res, 8, str(n)) for n in range(2)]
    uncovered = []

    def write(worker):
        for i in range(8):
            entry = audit_group.record(fresh_res, "api.request", f"/main/{worker}/{i}", actor="op")
            if integrity.signed_head(fresh_res).seq < entry.seq:
                uncovered.append(entry.seq)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for process in others:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
    assert uncovered == []
    log = audit.entries(fresh_res.db)
    assert len(log) == 1 + 3 * 4 * 8 and [e.seq for e in log] == list(range(1, len(log) + 1))
    assert integrity.verify(fresh_res) == []
    assert integrity.signed_head(fresh_res).seq == len(log)


def test_the_next_group_commits_while_a_head_is_signed_and_nobody_is_answered_early(
        fresh_res, monkeypatch):
    audit_group.record(fresh_res, "api.request", "/start", actor="op")
    signing, release, signed = threading.Event(), threading.Event(), []
    real_sign = audit.sign_head

    def slow_sign(res, seq, head_hash):
        if not signed:  # the first group's signature is held up
            signing.set()
            release.wait(10)
        signed.append(seq)
        real_sign(res, seq, head_hash)

    monkeypatch.setattr(audit, "sign_head", slow_sign)
    answered = []
    threads = [threading.Thread(target=lambda i=i: answered.append(audit_group.record(
        fresh_res, "api.request", f"/{i}", actor="op").seq)) for i in range(2)]
    threads[0].start()
    assert signing.wait(10)  # entry 2 committed, its head not signed yet
    threads[1].start()
    while len(audit.entries(fresh_res.db)) < 3:  # entry 3 commits meanwhile
        threading.Event().wait(0.01)
    threading.Event().wait(0.2)
    assert answered == []  # neither is answered: no signed head covers them yet
    assert integrity.signed_head(fresh_res).seq == 1
    release.set()
    for t in threads:
        t.join()
    assert sorted(answered) == [2, 3] and signed == [2, 3]
    assert integrity.verify(fresh_res) == []


def test_a_group_whose_head_cannot_be_signed_is_refused_to_every_caller(fresh_res,
                                                                       monkeypatch):
    audit_group.record(fresh_res, "api.request", "/start", actor="op")

    def no_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "write", no_disk)
    with pytest.raises(audit.HeadNotSigned, match="could not be signed"):
        audit_group.record(fresh_res, "api.request", "/unsigned", actor="op")
    monkeypatch.undo()
    assert integrity.verify(fresh_res) == []  # committed, never answered: no damage
    audit_group.record(fresh_res, "api.request", "/next", actor="op")
    assert integrity.signed_head(fresh_res).seq == 3 and integrity.verify(fresh_res) == []


_KILLED_AFTER_COMMIT = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from yishu.access import audit, audit_group
    from yishu.resources import Resources
    from yishu.settings import Settings

    res = Resources.from_settings(Settings.for_home(Path(sys.argv[1])))
    audit.sign_head = lambda *a: os.kill(os.getpid(), 9)  # killed after the commit
    audit_group.record(res, "api.request", "/killed", actor="op")
    print("answered")  # never reached
""")


def test_a_writer_killed_between_its_commit_and_its_signature(fresh_res):
    audit_group.record(fresh_res, "api.request", "/start", actor="op")
    killed = subprocess.run([sys.executable, "-c", _KILLED_AFTER_COMMIT,
                             str(fresh_res.storage.home)], capture_output=True, text=True,
                            timeout=120)
    assert killed.returncode == -9 and "answered" not in killed.stdout
    assert [e.subject for e in audit.entries(fresh_res.db)] == ["/start", "/killed"]
    assert integrity.signed_head(fresh_res).seq == 1  # the unanswered entry is not signed
    assert integrity.verify(fresh_res) == []  # a crash, not tampering
    audit_group.record(fresh_res, "api.request", "/after", actor="op")
    assert integrity.signed_head(fresh_res).seq == 3 and integrity.verify(fresh_res) == []


def test_a_coroutine_is_answered_once_its_entry_is_signed_and_told_when_it_cannot_be(
        fresh_res, monkeypatch):
    import asyncio

    async def both():  # a coroutine and a thread in one group, each answered its own way
        thread = asyncio.to_thread(audit_group.record, fresh_res, "api.request", "/t",
                                   actor="op")
        return await asyncio.gather(audit_group.record_async(
            fresh_res, "api.request", "/c", actor="op"), thread)

    entries = asyncio.run(both())
    assert sorted(e.subject for e in entries) == ["/c", "/t"]
    assert integrity.signed_head(fresh_res).seq == max(e.seq for e in entries)

    def no_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "write", no_disk)
    with pytest.raises(audit.HeadNotSigned, match="could not be signed"):
        asyncio.run(audit_group.record_async(fresh_res, "api.request", "/unsigned", actor="op"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_records_with_writers_of_its_own(fresh_res):
    # Airflow's task runner forks: the parent's writer threads do not exist in the child
    audit_group.record(fresh_res, "api.request", "/parent", actor="op")
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if its entry is recorded and signed
        code = 1
        try:
            entry = audit_group.record(fresh_res, "api.request", "/child", actor="op")
            code = 0 if integrity.signed_head(fresh_res).seq == entry.seq else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    audit_group.record(fresh_res, "api.request", "/parent-again", actor="op")
    assert [e.subject for e in audit.entries(fresh_res.db)][-3:] == [
        "/parent", "/child", "/parent-again"]
    assert integrity.verify(fresh_res) == []
