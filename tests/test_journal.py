"""The journal of kept hits: each hit one line appended before its reply, progress marked in
the same file, a file all done removed at once, files of dead processes taken over by one
process only, a line cut by a crash ignored."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from statsvc.core.requester import Client
from statsvc.service.buffer import Buffer, Pending
from statsvc.service.journal import Journal, flush


def kept(n: int, site: str = "s") -> Pending:
    """Return the n-th hit kept in these tests, with a client (in memory only)."""
    client = Client("203.0.113.9", "agent-x", None, no_tracking=False)
    return Pending(site, f"/p{n}", 1000.0 + n, f"id-{n:04d}", visitor=f"v{n}", client=client)


def journal_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def taken_ids(directory: Path, limit: int = 1000) -> list[str]:
    """Take over the files of `directory` as a new process would; return the ids loaded
    (the files are let go again, as when that process dies)."""
    buffer = Buffer(limit)
    journal = Journal(directory)
    journal.take_over(buffer)
    journal.close()
    return [hit.view_id for hit in buffer.head(len(buffer))]


def test_a_kept_hit_is_one_line_with_no_address_in_a_private_file(tmp_path: Path) -> None:
    """Each kept hit is a line of its own in the process's file, written at once (readable
    before any sync or close): site, page, instant, id, visitor ids and its number, never the
    client's address or User-Agent; the file is 0600 in a 0700 directory."""
    directory = tmp_path / "buffer"
    journal = Journal(directory)
    for n in range(3):
        journal.keep(kept(n))
    [path] = journal_files(directory)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {
        "site": "s",
        "path": "/p0",
        "at": 1000.0,
        "id": "id-0000",
        "visitor": "v0",
        "n": 0,
    }
    assert [line["n"] for line in lines] == [0, 1, 2]
    text = path.read_text()
    assert "203.0.113.9" not in text and "agent-x" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    journal.close()
    assert journal_files(directory) == [path]  # not done: left for the next start


def test_progress_marks_leave_the_hits_not_done_to_the_next_process(tmp_path: Path) -> None:
    """Hits marked done are not loaded again by the process that takes the file over; the
    others are, in order; the marks of a taken file go into that same file."""
    journal = Journal(tmp_path)
    hits = [kept(n) for n in range(6)]
    for hit in hits:
        journal.keep(hit)
    journal.done([hits[1], hits[2], hits[4]])
    journal.close()  # as a crash leaves it: the file stays, the lock goes
    [path] = journal_files(tmp_path)
    assert {"done": [[1, 2], [4, 4]]} in [json.loads(x) for x in path.read_text().splitlines()]
    second = Journal(tmp_path)
    buffer = Buffer()
    assert second.take_over(buffer) == 3
    left = buffer.head(3)
    assert [hit.view_id for hit in left] == ["id-0000", "id-0003", "id-0005"]
    assert all(hit.client is None for hit in left)  # the client never reached the disk
    second.done(left[:1])
    second.close()
    assert taken_ids(tmp_path) == ["id-0003", "id-0005"]


def test_a_file_all_done_is_removed_at_once_and_the_next_hit_makes_another(
    tmp_path: Path,
) -> None:
    """When every hit of a file is done the file is deleted then, not at shutdown; a hit
    kept later goes to a new file. A taken-over file all done goes the same way, and one
    found all done (its process died before deleting it) is deleted by whoever takes it."""
    journal = Journal(tmp_path)
    first = [kept(n) for n in range(3)]
    for hit in first:
        journal.keep(hit)
    [path] = journal_files(tmp_path)
    journal.done(first[:2])
    assert path.exists()
    journal.done(first[2:])
    assert journal_files(tmp_path) == []
    later = kept(9)
    journal.keep(later)
    [again] = journal_files(tmp_path)
    assert again != path
    journal.close()
    taker = Journal(tmp_path)
    buffer = Buffer()
    assert taker.take_over(buffer) == 1
    taker.done(buffer.head(1))
    assert journal_files(tmp_path) == []
    # a file whose marks cover all its hits: deleted by whoever takes it, nothing loaded
    dead = Journal(tmp_path)
    hit = kept(5)
    dead.keep(hit)
    [left] = journal_files(tmp_path)
    with left.open("a") as out:
        out.write('{"done":[[0,0]]}\n')
    dead.close()
    assert taken_ids(tmp_path) == [] and journal_files(tmp_path) == []


def test_a_last_line_cut_by_a_crash_is_ignored_and_cut_off(tmp_path: Path) -> None:
    """A file whose last line has no newline (a host crash mid-write) loads its whole lines;
    the torn tail is cut off, so the marks written after it are read back as marks; lines
    that are not hits or marks are skipped."""
    journal = Journal(tmp_path)
    for n in range(3):
        journal.keep(kept(n))
    journal.close()
    [path] = journal_files(tmp_path)
    with path.open("a") as out:  # lines no process wrote (a host crash may leave them)
        out.write('"not a hit"\n[1, 2]\n{"site":"s"}\n{"site":"s","path":"/p3","at":10')
    taker = Journal(tmp_path)
    buffer = Buffer()
    assert taker.take_over(buffer) == 3
    assert path.read_text().endswith("}\n")
    taker.done(buffer.head(1))
    taker.close()
    assert taken_ids(tmp_path) == ["id-0001", "id-0002"]


def test_a_journal_cut_at_any_byte_loads_every_whole_hit_not_marked_done(
    tmp_path: Path,
) -> None:
    """Cut at every byte (what a host crash may leave of the file's tail): the hits loaded
    are exactly those whose line is whole and that no whole mark covers: none lost that was
    written whole, none loaded that a whole mark says is done."""
    source = tmp_path / "source"
    journal = Journal(source)
    hits = [kept(n) for n in range(8)]
    for hit in hits[:5]:
        journal.keep(hit)
    journal.done([hits[0], hits[1]])
    for hit in hits[5:]:
        journal.keep(hit)
    journal.done([hits[3], hits[5], hits[6]])
    journal.close()
    [path] = journal_files(source)
    data = path.read_bytes()
    for cut in range(len(data) + 1):
        expected: list[str] = []
        end = 0
        for line in data[:cut].split(b"\n")[:-1]:  # the whole lines before the cut
            end += len(line) + 1
            entry = json.loads(line)
            if "done" in entry:
                done = {n for first, last in entry["done"] for n in range(first, last + 1)}
                expected = [i for i in expected if int(i[3:]) not in done]
            else:
                expected.append(entry["id"])
        directory = tmp_path / f"cut-{cut}"
        directory.mkdir()
        (directory / path.name).write_bytes(data[:cut])
        assert taken_ids(directory) == expected, f"cut at byte {cut}"


def test_a_file_of_the_older_format_is_taken_over_and_marked(tmp_path: Path) -> None:
    """A `hits-*.jsonl` written at shutdown by an earlier version (hits only, no numbers) is
    taken over like a journal; its hits are numbered in order, and marks go into it."""
    path = tmp_path / "hits-00000000000000000001-42-abcd.jsonl"
    path.write_text("".join(json.dumps(kept(n).to_json()) + "\n" for n in range(3)))
    taker = Journal(tmp_path)
    buffer = Buffer()
    assert taker.take_over(buffer) == 3
    taker.done(buffer.head(2))
    taker.close()
    assert taken_ids(tmp_path) == ["id-0002"]


def test_a_file_is_taken_only_while_the_buffer_has_room_for_all_of_it(tmp_path: Path) -> None:
    """A buffer without room for all of a file's hits not done leaves the file where it is."""
    journal = Journal(tmp_path)
    for n in range(3):
        journal.keep(kept(n))
    journal.close()
    small = Buffer(limit=2)
    assert Journal(tmp_path).take_over(small) == 0 and len(small) == 0
    assert taken_ids(tmp_path) == ["id-0000", "id-0001", "id-0002"]


TAKER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from statsvc.service.buffer import Buffer
    from statsvc.service.journal import Journal, flush
    journal = Journal(Path(sys.argv[1]))
    buffer = Buffer()
    journal.take_over(buffer)
    print(json.dumps([hit.view_id for hit in buffer.head(len(buffer))]), flush=True)
    sys.stdin.read()  # holds its files until the test lets it end
    """
)


def test_two_processes_never_take_the_same_file_nor_a_live_ones(tmp_path: Path) -> None:
    """Two processes started together take over the files of dead processes between them,
    each file by one only; a file of a live process (this one's) is taken by neither; when a
    taker dies its files are free again."""
    for n in range(8):
        dead = Journal(tmp_path)
        dead.keep(kept(2 * n))
        dead.keep(kept(2 * n + 1))
        dead.close()
    alive = Journal(tmp_path)
    alive.keep(kept(99))
    takers = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        taken = [json.loads(taker.stdout.readline()) for taker in takers if taker.stdout]
    finally:
        for taker in takers:
            taker.communicate("", timeout=30)
    first, second = (set(ids) for ids in taken)
    assert not first & second
    assert first | second == {kept(n).view_id for n in range(16)}
    assert sorted(taken_ids(tmp_path)) == sorted(first | second)  # the takers are gone
    alive.close()


def test_a_flush_off_the_event_loop_outlives_the_files_it_flushes(tmp_path: Path) -> None:
    """What a flush needs is taken on the event loop (new descriptors of the files written
    since, and of the directory once a file was made) and flushed later in a thread: a file
    removed meanwhile (its hits done) is still open for that flush; nothing is flushed twice."""
    journal = Journal(tmp_path / "buffer")
    hit = kept(0)
    journal.keep(hit)
    descriptors = journal.unflushed()
    assert len(descriptors) == 2  # the file, and the directory it was made in
    assert journal.unflushed() == []  # taken as flushed: nothing written since
    journal.done([hit])  # all done: the file is removed and its own descriptor closed
    assert journal_files(tmp_path / "buffer") == []
    flush(descriptors)  # the thread's part: still open until now, then closed
    for descriptor in descriptors:
        with pytest.raises(OSError):
            os.fstat(descriptor)
    journal.close()
