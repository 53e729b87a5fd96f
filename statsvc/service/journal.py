"""The journal of kept hits: each hit the store could not take is appended to a file of this
process's in the data directory before its reply says queued, and each batch a replay counted
is marked done in the same file, so a crash at any instant loses no kept hit and counts none
twice.

A journal is a file of JSON lines, appended to only: a hit (what `Pending.to_json` holds, and
its number `n` in the file) or a mark `{"done": [[first, last], ...]}` of the numbers counted
or given up. A file whose hits are all done is deleted at once. A process holds a lock
(`flock`) on each file it writes, its own and those it took over; the lock goes when the
process ends, however it ends, and the next process to start takes the file and replays the
hits not marked done. Files of the older format (`hits-*.jsonl`, written at shutdown: hits
alone, no numbers, no marks) are taken over the same way."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from statsvc.service.buffer import Buffer, Pending

FILE_PREFIX = "journal-"  # journal-<time>-<pid>-<random>.jsonl: names sort by time made
OLD_FILE_PREFIX = "hits-"  # files of kept hits written at shutdown by earlier versions


class JournalFile:
    """One journal file, open for appending and locked by this process."""

    def __init__(self, path: Path, descriptor: int, next_number: int = 0) -> None:
        self.path = path
        self.descriptor = descriptor
        self.next_number = next_number
        self.pending: set[int] = set()  # numbers of the hits not yet done
        self.dirty = False  # written since the last fsync

    def append(self, hit: Pending) -> None:
        """Write a hit in one write() (whole, or not at all, should the process die)."""
        number = self.next_number
        entry = hit.to_json()
        entry["n"] = number
        self._write(entry)
        self.next_number = number + 1
        self.pending.add(number)
        hit.journal, hit.number = self, number

    def mark_done(self, numbers: list[int]) -> bool:
        """Write that these hits are done (counted, or given up); return whether any was not
        already (two replays at once may both count a hit: the store refuses the second)."""
        numbers = sorted(n for n in numbers if n in self.pending)
        if numbers:
            self._write({"done": _runs(numbers)})
            self.pending.difference_update(numbers)
        return bool(numbers)

    def _write(self, entry: dict[str, object]) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        os.write(self.descriptor, line.encode())
        self.dirty = True

    def sync(self) -> None:
        """Flush what was written to the disk (the page cache outlives the process, not the
        host)."""
        if self.dirty:
            self.dirty = False
            os.fsync(self.descriptor)

    def remove(self) -> None:
        """Delete the file, then let its lock go (a process that opens it meanwhile finds it
        gone)."""
        self.path.unlink(missing_ok=True)
        os.close(self.descriptor)

    def close(self) -> None:
        """Flush the file and let its lock go; the hits not done wait for the next start."""
        try:
            self.sync()
        finally:
            os.close(self.descriptor)


class Journal:
    """This process's journal files in `directory`: the one it appends kept hits to, and
    those of dead processes it took over."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._own: JournalFile | None = None
        self._taken: list[JournalFile] = []
        self._new_entry = False  # a file was made: the directory is synced with it

    def keep(self, hit: Pending) -> None:
        """Append a hit to this process's file (made at the first hit it keeps, and again
        after a file is done); raise OSError if it cannot be written."""
        if self._own is None:
            self._own = self._open_new()
        self._own.append(hit)

    def done(self, hits: Iterable[Pending]) -> None:
        """Mark these hits done in their files; delete a file when all of its are."""
        numbers: dict[JournalFile, list[int]] = {}
        for hit in hits:
            if hit.journal is not None:
                numbers.setdefault(hit.journal, []).append(hit.number)
        for file, done in numbers.items():
            if file.mark_done(done) and not file.pending:
                self._remove(file)

    def take_over(self, buffer: Buffer) -> int:
        """Take the files of processes that are gone, oldest first, while `buffer` has room
        for all of a file's hits not done, and add those to it (the rest wait for another
        process, or the next start: none is dropped); return how many were added."""
        if not self.directory.is_dir():
            return 0
        added = 0
        paths = sorted(self.directory.glob(f"{OLD_FILE_PREFIX}*.jsonl"))
        paths += sorted(self.directory.glob(f"{FILE_PREFIX}*.jsonl"))
        for path in paths:
            file = _lock(path)
            if file is None:
                continue
            hits = _read(file)
            if not hits:
                file.remove()  # every hit done: the process died before it deleted the file
                continue
            if len(buffer) + len(hits) > buffer.limit:
                os.close(file.descriptor)
                break
            for hit in hits:
                buffer.add(hit)
            self._taken.append(file)
            added += len(hits)
        return added

    def sync(self) -> None:
        """Flush every file written since the last sync (and the directory, after a file was
        made, so the file's name outlives a host crash too)."""
        flush(self.unflushed())

    def unflushed(self) -> list[int]:
        """Return new descriptors of the files written since the last sync, and of the
        directory after a file was made, for `flush` to flush (in a thread: a file this
        process deletes or closes meanwhile stays open until then); they count as flushed."""
        descriptors: list[int] = []
        try:
            for file in self._files():
                if file.dirty:
                    descriptors.append(os.dup(file.descriptor))
                    file.dirty = False
            if self._new_entry:
                descriptors.append(os.open(self.directory, os.O_RDONLY))
                self._new_entry = False
        except OSError:
            flush(descriptors)
            raise
        return descriptors

    def close(self) -> None:
        """Flush and close every file; those with hits not done stay for the next start."""
        try:
            self.sync()
        finally:
            for file in self._files():
                os.close(file.descriptor)
            self._own, self._taken = None, []

    def files(self) -> list[Path]:
        """Return the paths of the files this process holds."""
        return [file.path for file in self._files()]

    def _files(self) -> list[JournalFile]:
        return [*self._taken, *([self._own] if self._own is not None else [])]

    def _remove(self, file: JournalFile) -> None:
        file.remove()
        if file is self._own:
            self._own = None
        else:
            self._taken.remove(file)

    def _open_new(self) -> JournalFile:
        """Make a file, locked before it has the name other processes look for."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}"
        path = self.directory / f"{FILE_PREFIX}{stamp}.jsonl"
        making = self.directory / f".{FILE_PREFIX}{stamp}.making"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        descriptor = os.open(making, flags, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(making, path)
        except OSError:
            os.close(descriptor)
            making.unlink(missing_ok=True)
            raise
        self._new_entry = True
        return JournalFile(path, descriptor)


def flush(descriptors: list[int]) -> None:
    """Flush each of these descriptors to the disk, then close it."""
    try:
        for descriptor in descriptors:
            os.fsync(descriptor)
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def _lock(path: Path) -> JournalFile | None:
    """Open and lock a file for this process, or return None if a live process holds it or
    it is gone (a process deletes a file before it lets its lock go)."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(descriptor).st_ino != path.stat().st_ino:
            raise FileNotFoundError(path)  # deleted (and maybe made again) meanwhile
    except OSError:  # held by a live process, or gone
        os.close(descriptor)
        return None
    return JournalFile(path, descriptor)


def _read(file: JournalFile) -> list[Pending]:
    """Return the hits of a file not marked done, in order, and note them as the file's.

    A last line without its newline was cut by a crash (of the host: a process's write is
    whole): it is cut off the file, so the marks written after it stay lines of their own.
    A line that does not parse (a host crash may leave one) is skipped."""
    with open(file.descriptor, "rb", closefd=False) as reader:
        data = reader.read()
    whole = data.rfind(b"\n") + 1
    if whole < len(data):
        os.ftruncate(file.descriptor, whole)
    hits: dict[int, Pending] = {}
    done: set[int] = set()
    count = 0  # hits in the file: an old file's lines are numbered in order
    for line in data[:whole].splitlines():
        try:
            entry = json.loads(line)
            if "done" in entry:
                for first, last in entry["done"]:
                    done.update(range(int(first), int(last) + 1))
                continue
            number = int(entry.get("n", count))
            hit = Pending(
                site=str(entry["site"]),
                path=str(entry["path"]),
                at=float(entry["at"]),
                view_id=str(entry["id"]),
                visitor=str(entry.get("visitor", "")),
                source=str(entry.get("source", "")),
            )
        except (ValueError, TypeError, KeyError, AttributeError):  # not a line it wrote
            continue
        count += 1
        hit.journal, hit.number = file, number
        hits[number] = hit
        file.next_number = max(file.next_number, number + 1)
    kept = [hit for number, hit in hits.items() if number not in done]
    file.pending = {hit.number for hit in kept}
    return kept


def _runs(numbers: list[int]) -> list[list[int]]:
    """Return sorted numbers as runs [first, last]: a batch counted in order is one run."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs
