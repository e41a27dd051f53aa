"""Persisted operations: Apollo's automatic persisted queries, and trusted documents.

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` with or without the query.
Without it, a hash the API knows answers as if the query had been sent; an unknown one answers
PERSISTED_QUERY_NOT_FOUND, and the client sends hash and query together, which registers it in a
store bounded in entries and bytes (least recently used go first) once the query has parsed,
validated and passed the limits: a document that cannot run is never kept, so it can neither
answer a later hash nor push a runnable one out of the store. The trusted documents are the
files of schema/operations/, by the sha256 of each file's text: with PERSISTED_OPERATIONS_ONLY
they are all the API answers.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

from app.errors import CodedError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryNotFound(CodedError):
    """Apollo's links look for this message or code, then send the query with its hash."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PersistedQueryRequired(CodedError):
    code = "PERSISTED_QUERY_REQUIRED"


class BadPersistedQuery(CodedError):
    code = "BAD_REQUEST"


def sha256_hex(text: str) -> str:
    """Return the hex sha256 of `text` in UTF-8, as clients compute a persisted query's hash."""
    return hashlib.sha256(text.encode()).hexdigest()


def trusted_documents(directory: Path) -> dict[str, str]:
    """Return {sha256 of the file's text: text} for every .graphql file in `directory`."""
    documents = {}
    for path in sorted(directory.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        documents[sha256_hex(text)] = text
    return documents


class QueryStore:
    """Registered queries by hash, at most `max_entries` of them and `max_bytes` of text in all."""

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._queries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, digest: str) -> str | None:
        """Return the query registered under `digest`, or None."""
        query = self._queries.get(digest)
        if query is not None:
            self._queries.move_to_end(digest)
        return query

    def put(self, digest: str, query: str) -> None:
        """Register `query` under `digest`, dropping the least recently used beyond the bounds."""
        size = len(query.encode())
        if digest in self._queries or size > self.max_bytes or self.max_entries == 0:
            return
        self._queries[digest] = query
        self.bytes += size
        while len(self._queries) > self.max_entries or self.bytes > self.max_bytes:
            _, dropped = self._queries.popitem(last=False)
            self.bytes -= len(dropped.encode())


class Resolved(NamedTuple):
    """The query a request runs (None: it sent none), and the hash to register it under once it has
    proved runnable (`Persisted.register`), if the request sent a new query with its hash."""

    query: str | None
    new_hash: str | None = None


class Persisted:
    """Resolves a request's document from its query text and persisted-query hash."""

    def __init__(self, *, trusted: dict[str, str], only_trusted: bool, max_entries: int, max_bytes: int) -> None:
        self.trusted = trusted
        self.only_trusted = only_trusted
        self.store = QueryStore(max_entries=max_entries, max_bytes=max_bytes)

    def document(self, query: str | None, extensions: dict[str, Any] | None, document_id: Any = None) -> Resolved:
        """Return the query to run, and the hash to register it under; raise a CodedError saying why not.

        Nothing is registered here: the caller registers the query (`register`) once it has
        parsed, validated and passed the limits."""
        digest = _hash_of(extensions, document_id)
        if digest is None:
            if query is not None and self.only_trusted and sha256_hex(query) not in self.trusted:
                raise PersistedQueryRequired(
                    "this API answers only its persisted operations: send the sha256 of one in "
                    "extensions.persistedQuery.sha256Hash"
                )
            return Resolved(query)
        if query is not None:
            if sha256_hex(query) != digest:
                raise BadPersistedQuery("extensions.persistedQuery.sha256Hash is not the sha256 of the query")
            if digest in self.trusted:
                return Resolved(query)
            if self.only_trusted:
                raise PersistedQueryRequired("this API answers only its persisted operations; this is not one")
            return Resolved(query, new_hash=digest)
        known = self.trusted.get(digest)
        if known is None and not self.only_trusted:
            known = self.store.get(digest)
        if known is None:
            raise PersistedQueryNotFound()
        return Resolved(known)

    def register(self, resolved: Resolved) -> None:
        """Keep a query sent with its hash, for later requests naming the hash alone.

        Call it only once the query has parsed, validated and passed the limits."""
        if resolved.new_hash is not None and resolved.query is not None:
            self.store.put(resolved.new_hash, resolved.query)


def _hash_of(extensions: dict[str, Any] | None, document_id: Any) -> str | None:
    """Return the sha256 a request names (persistedQuery extension or documentId), or None."""
    if document_id is not None:
        if not isinstance(document_id, str) or not _SHA256.match(document_id.removeprefix("sha256:")):
            raise BadPersistedQuery("`documentId` must be sha256:<64 hex digits>")
        return document_id.removeprefix("sha256:")
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    version = persisted.get("version") if isinstance(persisted, dict) else None
    if not isinstance(persisted, dict) or type(version) is not int or version != 1:  # (true == 1 in Python)
        raise BadPersistedQuery("extensions.persistedQuery must be {version: 1, sha256Hash}")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.match(digest.lower()):
        raise BadPersistedQuery("extensions.persistedQuery.sha256Hash must be 64 hex digits")
    return digest.lower()
