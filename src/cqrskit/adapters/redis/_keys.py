"""Where the read store keeps things in Redis, and how index entries sort there.

Every key starts with the namespace and a colon; a namespace is a complete,
independent copy of the read models, so `cqrskit rebuild` can build the views
into a fresh namespace (say `cqrskit-2`) while the live one serves, then point
the processes at it and drop the old one with `RedisReadStore.purge()`.
Namespaces cannot contain a colon, so `ns:*` matches one namespace's keys only.

    {ns}:d:{key}       STRING  a document, the bytes of its answer
    {ns}:i:{index}:z   ZSET    score 0, member `sort_key NUL member`: the order
    {ns}:i:{index}:e   HASH    member -> `sort_key NUL text` (the entry itself)
    {ns}:i:{index}:f   HASH    member -> the text folded by `str.lower()`
    {ns}:c:{projection} HASH   stream id -> the last version applied;
                               `$committed_at` -> the server's time of the last
                               commit ("seconds.micros"; absent before it)

An index's three keys end in a fixed one-letter suffix, so no index name (colons
and all) can make one index's key collide with another's.

A rebuild builds the views into a scratch namespace `{ns}.rebuild-{hex}` beside
the live one and then moves each projection's keys over (`RedisReadStore.adopt`).

ZSET members with equal scores sort bytewise, and bytewise order of UTF-8 is
code point order, which is how Python compares strings. Since neither a sort key
nor a member contains NUL, `sort_key NUL member` sorts exactly like the tuple
`(sort_key, member)`: a sort key that is a prefix of another ends at NUL, which
sorts before any character that continues the longer one.
"""

from __future__ import annotations

import re

COMMITTED_AT = b"$committed_at"
"""The checkpoint field of the last commit's time: no stream id, not a checkpoint."""
_NUL = b"\x00"
_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")
_INDEX_SUFFIX_LENGTH = len(":z")

Bound = bytes
"""A ZRANGE BYLEX bound: `-`, `+`, or `(`/`[` and a lex member."""


class Keyspace:
    def __init__(self, namespace: str) -> None:
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError(
                f"namespace {namespace!r}: use 1-64 of A-Z a-z 0-9 _ . - "
                "(no colon, no glob or hash-tag characters)"
            )
        self.namespace = namespace
        self.pattern = f"{namespace}:*"
        """The SCAN MATCH pattern of every key of this namespace and no other."""

    def doc(self, key: str) -> str:
        return f"{self.namespace}:d:{key}"

    def index(self, index: str) -> tuple[str, str, str]:
        """The order ZSET, the entry HASH and the folded-text HASH of an index."""
        base = f"{self.namespace}:i:{index}:"
        return base + "z", base + "e", base + "f"

    def checkpoints(self, projection: str) -> str:
        return f"{self.namespace}:c:{projection}"

    def owned_patterns(self, prefix: str) -> tuple[str, str]:
        """SCAN MATCH patterns of the docs and the index keys whose key or index
        name starts with `prefix` (taken literally). The index pattern may also
        match an index whose name is shorter: check each key with `owns`."""
        literal = _GLOB_SPECIAL.sub(r"\\\1", prefix)
        return f"{self.namespace}:d:{literal}*", f"{self.namespace}:i:{literal}*"

    def owns(self, key: bytes, prefix: str) -> bool:
        """Whether `key` (a doc or index key of this namespace) belongs to a
        doc key or an index name that starts with `prefix`."""
        base = f"{self.namespace}:".encode()
        if key.startswith(base + b"d:"):
            name = key[len(base) + 2 :]
        elif key.startswith(base + b"i:"):
            name = key[len(base) + 2 : -_INDEX_SUFFIX_LENGTH]
        else:
            return False
        return name.startswith(prefix.encode())

    def is_doc(self, key: bytes) -> bool:
        return key.startswith(f"{self.namespace}:d:".encode())

    def doc_name(self, key: bytes) -> str:
        """The document key of a doc key of this namespace."""
        return key[len(self.namespace) + 3 :].decode()

    def index_name(self, key: bytes) -> str:
        """The index name of one of an index's keys of this namespace."""
        return key[len(self.namespace) + 3 : -_INDEX_SUFFIX_LENGTH].decode()

    def move(self, key: bytes, to: Keyspace) -> bytes:
        """The name `key` of this namespace has in namespace `to`."""
        return f"{to.namespace}:".encode() + key[len(self.namespace) + 1 :]


def lex_member(sort_key: str, member: str) -> bytes:
    if "\x00" in sort_key or "\x00" in member:
        raise ValueError(
            f"the Redis read store cannot index {member!r} under {sort_key!r}: "
            "sort keys and members cannot contain NUL"
        )
    return sort_key.encode() + _NUL + member.encode()


def page_bounds(after: tuple[str, str] | None, reverse: bool) -> tuple[Bound, Bound]:
    """The ZRANGE BYLEX bounds (start, stop) of the entries strictly after
    `after` in the direction of the walk (for REV, start is the upper bound).

    A cursor comes from outside and may contain NUL, which no entry does. If the
    sort key has NUL at i, the entries after it are those whose sort key is
    greater than sort_key[:i] (forward), or at most sort_key[:i] (reverse); if
    the member has, those after it are the ones whose member is greater than
    member[:i] (forward), or at most member[:i] (reverse), at the same sort key.
    """
    if after is None:
        return (b"+", b"-") if reverse else (b"-", b"+")
    sort_key, member = after
    end = b"-" if reverse else b"+"
    if "\x00" in sort_key:
        # Every lex member of sort key p starts with `p NUL`; `p \x01` sorts after
        # all of them and before every longer sort key that starts with p.
        prefix = sort_key.split("\x00", 1)[0].encode() + b"\x01"
        return (b"(" if reverse else b"[") + prefix, end
    if "\x00" in member:
        cut = lex_member(sort_key, member.split("\x00", 1)[0])
        return (b"[" if reverse else b"(") + cut, end
    return b"(" + lex_member(sort_key, member), end
