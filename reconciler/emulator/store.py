"""Accounts and their objects, in memory or in a JSON state file shared between processes.

Everything a request reads or writes happens inside :meth:`Store.transaction`: one thread at
a time in this process, and, with a state file, an exclusive ``fcntl`` lock on ``FILE.lock``
so that separate CLI runs and servers take turns. The file is reloaded when another process
changed it and written by atomic replace, so a reader never sees half a file.

Objects are kept per (account, mode) bucket, in creation order, each with a sequence number
from one counter: lists sort newest first by it, which stays stable when several objects share
a ``created`` second.

A rule that looks an object up by a field's value (a price's unique ``lookup_key``) asks
:meth:`Bucket.holding`, which keeps an index per kind and field from its first use: with
100,000 prices, a scan per price created made seeding such an account take minutes. The
indexes live beside the state, not in it (the file holds data only), and are dropped
whenever the state is replaced.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import fcntl
import itertools
import json
import secrets
import string
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from reconciler.fsutil import make_private_dir, write_atomic

FORMAT_VERSION = 1
_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _fresh(platform: str | None = None, created: int | None = None) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "seq": 0,
        "platform": platform or random_id("acct_", 16),
        "created": created or int(time.time()),
        "accounts": {},
    }


class _Index:
    """The ids of one kind's objects by the value of one field, kept by :meth:`Bucket.put`
    and :meth:`Bucket.remove` (the only ways objects change: updates store a new copy)."""

    def __init__(self, field: str, table: dict[str, dict[str, Any]]) -> None:
        self.field = field
        self.ids: dict[Any, set[str]] = {}
        self.value_of: dict[str, Any] = {}
        for object_id, record in table.items():
            self.add(object_id, record["object"])

    def add(self, object_id: str, obj: dict[str, Any]) -> None:
        self.drop(object_id)
        value = obj.get(self.field)
        if value is not None:
            self.ids.setdefault(value, set()).add(object_id)
            self.value_of[object_id] = value

    def drop(self, object_id: str) -> None:
        if object_id in self.value_of:
            value = self.value_of.pop(object_id)
            self.ids[value].discard(object_id)
            if not self.ids[value]:
                del self.ids[value]


def _created(obj: dict[str, Any]) -> int:
    """An object's ``created``; one without (none is listed by it) sorts first."""
    stamp = obj.get("created")
    return stamp if type(stamp) is int else -1


class Indexes:
    """What the store derives from one bucket's objects to answer without reading them all:
    ids by a field's value (:meth:`Bucket.holding`), and whether a kind's records were
    created in ``seq`` order (:meth:`Bucket.newest_first`)."""

    def __init__(self) -> None:
        self.fields: dict[tuple[str, str], _Index] = {}
        self.in_order: dict[str, bool] = {}


class Bucket:
    """The objects and idempotency records of one account in one mode."""

    def __init__(self, state: State, data: dict[str, Any], account: str, livemode: bool,
                 indexes: Indexes) -> None:
        self._state = state
        self._data = data
        self.account = account
        self.livemode = livemode
        self._indexes = indexes

    @property
    def fresh(self) -> bool:
        """True until the first object is stored (used to seed per-account defaults)."""
        return not self._data["objects"]

    def get(self, kind: str, object_id: str) -> dict[str, Any] | None:
        return self._data["objects"].get(kind, {}).get(object_id)

    def records(self, kind: str, parent: str | None = None) -> list[dict[str, Any]]:
        """Records of one kind (under one parent, for sub-resources), newest first."""
        return list(self.newest_first(kind, parent))

    def newest_first(self, kind: str, parent: str | None = None, below: int | None = None,
                     created: tuple[int | None, int | None] = (None, None)
                     ) -> Iterator[dict[str, Any]]:
        """:meth:`records`, lazily: a list page of an account with 100,000 prices stops
        after its page instead of copying them all. It may start below the ``seq`` of a
        ``starting_after`` cursor, and, when the kind's records were created in ``seq``
        order (as they are unless the clock went back), within the seconds ``created``
        ``[from, before)`` names, both found by bisection instead of reading every newer
        (or older) record; the caller still filters on ``created``. A table keeps its
        records in ``seq`` order: :meth:`put` adds a new id at the end (the highest seq) and
        replaces an existing one in place, and the state file keeps the order."""
        table = self._data["objects"].get(kind, {})
        seek = created != (None, None) and self._in_order(kind, table)
        if below is None and not seek:
            records: Iterable[dict[str, Any]] = reversed(table.values())
        else:
            ordered = list(table.values())
            start, end = 0, len(ordered)
            if below is not None:
                end = bisect.bisect_left(ordered, below, key=lambda r: r["seq"])
            if seek:
                first, before = created

                def stamp(record: dict[str, Any]) -> int:
                    return _created(record["object"])

                if first is not None:
                    start = bisect.bisect_left(ordered, first, hi=end, key=stamp)
                if before is not None:
                    end = bisect.bisect_left(ordered, before, lo=start, hi=end, key=stamp)
            records = (ordered[i] for i in range(end - 1, start - 1, -1))
        for record in records:
            if parent is None or record.get("parent") == parent:
                yield record

    def _in_order(self, kind: str, table: dict[str, dict[str, Any]]) -> bool:
        """Whether ``created`` never decreases along ``seq`` (known once read, then kept
        by :meth:`put`)."""
        known = self._indexes.in_order.get(kind)
        if known is None:
            stamps = [_created(record["object"]) for record in table.values()]
            known = self._indexes.in_order[kind] = all(
                a <= b for a, b in itertools.pairwise(stamps))
        return known

    def holding(self, kind: str, field: str, value: Any) -> list[dict[str, Any]]:
        """The records of ``kind`` whose object's ``field`` is ``value`` (not None), newest
        first: :meth:`records` filtered, without reading every record each time."""
        index = self._indexes.fields.get((kind, field))
        if index is None:
            table = self._data["objects"].get(kind, {})
            index = self._indexes.fields[kind, field] = _Index(field, table)
        table = self._data["objects"].get(kind, {})
        return sorted((table[i] for i in index.ids.get(value, ())), key=lambda r: r["seq"],
                      reverse=True)

    def put(self, kind: str, obj: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
        """Store a new object, or replace an existing one keeping its place in the order."""
        table = self._data["objects"].setdefault(kind, {})
        old = table.get(obj["id"])
        if self._indexes.in_order.get(kind):
            if old is not None:  # replaced in place: in order if its created stayed
                ordered = _created(old["object"]) == _created(obj)
            else:  # added at the end: in order if not older than the newest
                ordered = not table or _created(table[next(reversed(table))]["object"]) \
                    <= _created(obj)
            self._indexes.in_order[kind] = ordered
        seq = old["seq"] if old else self._state.next_seq()
        record = {"seq": seq, "object": obj}
        if parent is not None or (old and "parent" in old):
            record["parent"] = parent if parent is not None else old["parent"]  # type: ignore[index]
        table[obj["id"]] = record
        for (indexed, _), index in self._indexes.fields.items():
            if indexed == kind:
                index.add(obj["id"], obj)
        self._state.dirty = True
        return record

    def remove(self, kind: str, object_id: str) -> None:
        self._data["objects"].get(kind, {}).pop(object_id, None)
        for (indexed, _), index in self._indexes.fields.items():
            if indexed == kind:
                index.drop(object_id)
        self._state.dirty = True

    def idempotent(self, key: str) -> dict[str, Any] | None:
        return self._data["idempotency"].get(key)

    def remember(self, key: str, record: dict[str, Any]) -> None:
        self._data["idempotency"][key] = record
        self._state.dirty = True


class State:
    """The whole emulator state as JSON-ready data, with a dirty flag for saving."""

    def __init__(self, data: dict[str, Any], indexes: dict[str, Indexes]) -> None:
        self.data = data
        self.dirty = False
        self._indexes = indexes  # by bucket (see Indexes), kept by the Store

    @property
    def platform(self) -> str:
        return self.data["platform"]

    @property
    def created(self) -> int:
        return self.data["created"]

    def next_seq(self) -> int:
        self.data["seq"] += 1
        self.dirty = True
        return self.data["seq"]

    def bucket(self, account: str, livemode: bool) -> Bucket:
        key = f"{account}:{'live' if livemode else 'test'}"
        data = self.data["accounts"].get(key)
        if data is None:
            data = self.data["accounts"][key] = {"objects": {}, "idempotency": {}}
            self.dirty = True
        return Bucket(self, data, account, livemode, self._indexes.setdefault(key, Indexes()))


class Store:
    """Owner of the state: locking, reloading and saving around each transaction."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        self._data = _fresh()
        self._indexes: dict[str, Indexes] = {}  # of self._data, dropped when it is replaced
        self._seen: tuple[str, tuple[int, int, int] | None] | None = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self._lock, self._file_lock() as revision:
            self._reload(revision)
            state = State(self._data, self._indexes)
            try:
                yield state
            finally:
                if state.dirty:
                    self._save(revision)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the current state (what a state file holds)."""
        with self.transaction() as state:
            return copy.deepcopy(state.data)

    def reset(self) -> None:
        """Forget every object and idempotency record; the platform account id stays."""
        with self.transaction() as state:
            fresh = _fresh(state.platform, state.created)
            state.data.clear()
            state.data.update(fresh)
            self._indexes.clear()
            state.dirty = True

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[IO[str] | None]:
        """Hold the lock file; its content is the revision of the last save."""
        if self.path is None:
            yield None
            return
        make_private_dir(self.path.parent)
        with open(self.path.with_name(self.path.name + ".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _stat(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _reload(self, revision: IO[str] | None) -> None:
        """Load the file if another process saved since we last looked (or it was edited)."""
        if self.path is None or revision is None:
            return
        revision.seek(0)
        seen = (revision.read(), self._stat())
        if seen == self._seen:
            return
        if seen[1] is None:
            self._data = _fresh(self._data["platform"], self._data["created"])
        else:
            data = json.loads(self.path.read_text("utf-8"))
            if data.get("version") != FORMAT_VERSION:
                raise RuntimeError(f"{self.path}: not an emulator state file (version {FORMAT_VERSION})")
            self._data = data
        self._indexes.clear()
        self._seen = seen

    def _save(self, revision: IO[str] | None) -> None:
        if self.path is None or revision is None:
            return
        token = secrets.token_hex(8)
        # The new revision is written before the file: a crash in between costs a reload, never
        # a missed change.
        revision.seek(0)
        revision.truncate()
        revision.write(token)
        revision.flush()
        # 0600: the state holds the emulated whsec_ signing secrets. Not fsynced: rewritten
        # on every request, and test data only.
        write_atomic(self.path, json.dumps(self._data, separators=(",", ":")), durable=False)
        self._seen = (token, self._stat())
