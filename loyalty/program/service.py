"""Publish programs as numbered versions; every process sees the newest one without a restart."""

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

import rules
from loyalty.errors import Conflict, InvalidInput, NotFound
from loyalty.program import repository
from loyalty.program.models import ProgramVersion, PurposeNotice

Sources = str | list[tuple[str, str]] | list[list[str]]
DEFAULT_FILENAME = "program.rules"


@dataclass(frozen=True)
class Published:
    version: int
    program: rules.Program
    notice_versions: dict[str, str]  # purpose -> notice version
    digest: str


_lock = threading.Lock()
_compiling = threading.Lock()
# Compiled programs by source digest (compiling is pure, so a digest names its result).
_compiled: "OrderedDict[str, rules.Program]" = OrderedDict()
# The newest version seen, per database URL.
_current: dict[str, Published] = {}
# Rendering an engine's URL costs more than the rest of the cache lookup (per till purchase).
_url_of: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


def normalize_sources(sources: Sources) -> list[tuple[str, str]]:
    """[(filename, text)] from one text or from pairs; InvalidInput for anything else, and for a
    program without any text (a blank publish would silently switch every rule off)."""
    if isinstance(sources, str):
        pairs = [(DEFAULT_FILENAME, sources)]
    elif isinstance(sources, list | tuple):
        pairs = []
        for item in sources:
            pair = isinstance(item, list | tuple) and len(item) == 2
            if not pair or not all(isinstance(x, str) for x in item):
                raise InvalidInput("Sources must be [filename, text] pairs.", code="invalid_source")
            pairs.append((item[0], item[1]))
    else:
        raise InvalidInput("The program must be its text or [filename, text] pairs.", code="invalid_source")
    if not any(text.strip() for _, text in pairs):
        raise InvalidInput("The program is empty.", code="invalid_source")
    return pairs


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compile(pairs: list[tuple[str, str]], digest: str, **kwargs: Any) -> rules.Program:
    with _lock:
        program = _compiled.get(digest)
    if program is not None and not kwargs:
        return program
    # One compile at a time: when a worker starts under load, every request thread finds the
    # cache empty, and thirty compiles at once (each building the parser too) took seconds each.
    with _compiling:
        with _lock:
            program = _compiled.get(digest)
        if program is not None and not kwargs:
            return program
        return _compile_now(pairs, digest, **kwargs)


def _compile_now(pairs: list[tuple[str, str]], digest: str, **kwargs: Any) -> rules.Program:
    program = _compiled_or_error(pairs, **kwargs)
    with _lock:
        _compiled[digest] = program
        while len(_compiled) > 8:
            _compiled.popitem(last=False)
    return program


def _compiled_or_error(pairs: list[tuple[str, str]], **kwargs: Any) -> rules.Program:
    try:
        return rules.compile_program(pairs, **kwargs)
    except rules.CompileError as exc:
        raise InvalidInput(
            "The program does not compile.",
            code="compile_error",
            extra=[d.to_dict() for d in exc.diagnostics],
        ) from exc


def compile_draft(sources: Sources, *, rewards: set[str] | None = None) -> rules.Program:
    """A program that is not published (a simulation's): InvalidInput (422) when it does not
    compile. Kept out of the cache, whose few entries serve the published versions."""
    pairs = normalize_sources(sources)
    return _compiled_or_error(pairs, **({"rewards": rewards} if rewards is not None else {}))


def _notice_version(session: Session, purpose: rules.PurposeInfo, number: int, now: datetime) -> str:
    """Same text, same version; a new text gets the next number for that purpose."""
    text = purpose.text or ""
    digest = _digest(text)
    known = repository.notices_of(session, purpose.name)
    for notice in known:
        if notice.digest == digest:
            return notice.version
    version = str(max((int(n.version) for n in known), default=0) + 1)
    repository.add(
        session,
        PurposeNotice(
            purpose=purpose.name,
            version=version,
            digest=digest,
            title=purpose.title,
            text=text,
            basis=purpose.basis or "consent",
            dpv=purpose.dpv,
            first_published_in=number,
            first_published_at=now,
        ),
    )
    return version


def publish(
    session: Session,
    *,
    sources: Sources,
    staff_id: int | None,
    now: datetime,
    rewards: set[str] | None = None,
    rolled_back_to: int | None = None,
) -> ProgramVersion:
    """Compile and store a new version; InvalidInput (422, with diagnostics) when it does not compile."""
    pairs = normalize_sources(sources)
    source_json = json.dumps([list(p) for p in pairs], ensure_ascii=False)
    digest = _digest(source_json)
    program = _compile(pairs, digest, **({"rewards": rewards} if rewards is not None else {}))
    number = (repository.latest_number(session) or 0) + 1
    notices = {p.name: _notice_version(session, p, number, now) for p in program.purposes}
    version = ProgramVersion(
        number=number,
        source=source_json,
        digest=digest,
        notice_versions=json.dumps(notices, sort_keys=True),
        published_at=now,
        published_by=staff_id,
        rolled_back_to=rolled_back_to,
    )
    try:
        repository.add(session, version)
    except IntegrityError as exc:  # another publish took this number at the same moment
        raise Conflict("Another version was published at the same time; please retry.") from exc
    with _lock:
        _compiled[digest] = program
    session.info.pop(_MEMO, None)  # this transaction's current() now answers the new version
    return version


def current(session: Session) -> Published | None:
    """The newest published version: one indexed query per transaction, a compile only when
    it changed. Within one transaction the answer is remembered (a purchase asks several times)."""
    transaction = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is not None and memo[0] is transaction and transaction is not None and transaction.is_active:
        return memo[1]  # type: ignore[no-any-return]
    published = _current_version(session)
    # Taken after the query, which begins the transaction if none had begun yet.
    session.info[_MEMO] = (session.get_transaction(), published)
    return published


_MEMO = "program.current"


def current_for(session: Session, latest: tuple[int, str] | None) -> Published | None:
    """current(), when the caller already read the newest (number, digest) in a statement of
    its own in this transaction (the till's purchase folds that read into its member lookup)."""
    published = _published(session, latest)
    session.info[_MEMO] = (session.get_transaction(), published)
    return published


def _current_version(session: Session) -> Published | None:
    return _published(session, repository.latest_key(session))


def _published(session: Session, latest: tuple[int, str] | None) -> Published | None:
    if latest is None:
        return None
    engine = session.get_bind().engine
    key = _url_of.get(engine)
    if key is None:
        key = _url_of[engine] = str(engine.url)
    with _lock:
        cached = _current.get(key)
    # The digest guards against a database that was emptied and refilled under the same URL.
    if cached is not None and (cached.version, cached.digest) == latest:
        return cached
    return _load(key, get_version(session, number=latest[0]))


def _load(key: str, row: ProgramVersion) -> Published:
    pairs = [(name, text) for name, text in json.loads(row.source)]
    published = Published(
        version=row.number,
        program=_compile(pairs, row.digest),
        notice_versions=json.loads(row.notice_versions),
        digest=row.digest,
    )
    with _lock:
        _current[key] = published
    return published


def forget_cache() -> None:
    """Drop what this process remembers (tests that reuse a database URL call this)."""
    with _lock:
        _current.clear()


def get_version(session: Session, *, number: int) -> ProgramVersion:
    row = repository.by_number(session, number)
    if row is None:
        raise NotFound(f"There is no program version {number}.", code="program_version_not_found")
    return row


def sources_of(row: ProgramVersion) -> list[tuple[str, str]]:
    return [(name, text) for name, text in json.loads(row.source)]


def rollback(session: Session, *, number: int, staff_id: int | None, now: datetime) -> ProgramVersion:
    """Publish an earlier version's source again, as a new version (history stays linear)."""
    old = get_version(session, number=number)
    return publish(session, sources=sources_of(old), staff_id=staff_id, now=now, rolled_back_to=number)


def list_versions(session: Session) -> list[ProgramVersion]:
    return repository.versions(session)


def notice(session: Session, *, purpose: str, version: str) -> PurposeNotice | None:
    return repository.notice(session, purpose, version)
