"""Reading seed files: YAML that remembers where each value came from, and seed errors.

Every problem found in the input becomes a `SeedIssue` naming the file, the line and the
field, so an operator can go straight to it. Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.seed.files import SeedError, SeedIssue, collect, display_path, read_seed_bytes
from app.seed.format import PLAIN_NUMBER, written_plainly

ModelT = TypeVar("ModelT", bound=BaseModel)
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it
_TAGS: dict[tuple[str, Any], str] = {}  # (scalar, implicit) -> its resolved tag
_CACHED_UP_TO = 40  # characters: keys, slugs, enums and numbers repeat; quotes do not


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, remembering how short plain scalars resolve.

    Resolving a scalar's tag runs regular expressions in Python for every value, keys included
    (`quote`, `start`, `evidence` ... thousands of times per file); for a safe loader, which has
    no path resolvers, the tag depends on the value and its style alone."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and len(value) <= _CACHED_UP_TO:
            key = (value, implicit)
            tag = _TAGS.get(key)
            if tag is None:
                tag = _TAGS[key] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


def _timestamp_or_text(constructor: Any, node: yaml.ScalarNode) -> Any:
    """Return a plain timestamp's date or datetime; one no calendar has ("2023-02-30", "25:00")
    as its text, which the file's schema then refuses with its line and field."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(constructor, node)
    except (ValueError, AttributeError):  # (a text no timestamp pattern matches: "!!timestamp banana")
        return node.value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _exact_float(constructor: Any, node: yaml.ScalarNode) -> Any:
    """Return a number with a fraction as the decimal written: `0.1` is 0.1, not the binary float
    nearest it, and `54900000000.123456789` keeps every digit (a float kept 16 of them, silently).
    YAML's `.inf` and `.nan` stay floats."""
    if PLAIN_NUMBER.fullmatch(node.value):
        return Decimal(node.value)
    return yaml.constructor.SafeConstructor.construct_yaml_float(constructor, node)


def _or_text(construct: Any) -> Any:
    """Return a constructor that gives a value it cannot read ("!!int abc", "!!bool maybe") as its
    text, for the file's schema to refuse with its line and field instead of a traceback."""

    def read(constructor: Any, node: yaml.ScalarNode) -> Any:
        try:
            return construct(constructor, node)
        except (ValueError, TypeError, KeyError, AttributeError):
            return node.value

    return read


for _tag, _construct in (
    ("tag:yaml.org,2002:int", yaml.constructor.SafeConstructor.construct_yaml_int),
    ("tag:yaml.org,2002:float", _exact_float),
    ("tag:yaml.org,2002:bool", yaml.constructor.SafeConstructor.construct_yaml_bool),
):
    _Loader.add_constructor(_tag, _or_text(_construct))

Loc = tuple[str | int, ...]

_Parser: Any = (
    getattr(yaml.cyaml, "CParser", None) if yaml.__with_libyaml__ else None
)  # libyaml's parser alone: events, no nodes
_YAML_TAG = "tag:yaml.org,2002:"
_STR = _YAML_TAG + "str"
_INT, _FLOAT = _YAML_TAG + "int", _YAML_TAG + "float"
_NUMBERS = (_INT, _FLOAT)
_SPELLED = frozenset(  # YAML's infinities and not-a-number, left to the schema (no field takes them)
    sign + name for sign in ("", "-", "+") for name in (".inf", ".Inf", ".INF")
) | {".nan", ".NaN", ".NAN"}
_MISSING: Any = object()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# the implicit scalar types a plain value may resolve to (anything else goes to the full composer)
_SCALARS: dict[str, Any] = {
    tag: method
    for tag, method in yaml.constructor.SafeConstructor.yaml_constructors.items()
    if tag
    in (
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    )
}
_SCALARS["tag:yaml.org,2002:timestamp"] = _timestamp_or_text
_SCALARS["tag:yaml.org,2002:float"] = _exact_float
_VALUES: dict[tuple[str, str], Any] = {}  # (tag, plain scalar) -> its (immutable) value
_VALUES_UP_TO = 200_000
_RESOLVER: Any = yaml.resolver.Resolver()
_PLAIN = (True, False)
_MAX_DEPTH = 100  # deeper documents (never a seed file) are left to the full composer


class _Fallback(Exception):
    """The document needs the full composer (or its error messages)."""


def _plain_scalar(value: str) -> Any:
    """Return a plain (unquoted, untagged) scalar's value, as the safe loader constructs it."""
    if len(value) <= _CACHED_UP_TO:
        key = (value, _PLAIN)
        tag = _TAGS.get(key)
        if tag is None:
            tag = _TAGS[key] = _RESOLVER.resolve(yaml.ScalarNode, value, _PLAIN)
    else:
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, _PLAIN)
    if tag == _STR:
        return value
    found = _VALUES.get((tag, value), _MISSING)
    if found is _MISSING:
        construct = _SCALARS.get(tag)
        if construct is None or (tag in _NUMBERS and not written_plainly(value) and value not in _SPELLED):
            raise _Fallback  # (a number in a notation of YAML 1.1 alone: the composer reports it, by line)
        found = construct(_CONSTRUCTOR, yaml.ScalarNode(tag, value))
        if len(_VALUES) < _VALUES_UP_TO:
            _VALUES[tag, value] = found
    return found


def _fast_data(text: str) -> Any:
    """Return the data of a one-document YAML text built from libyaml's events, as the safe loader
    builds it; raise _Fallback for anything it does not handle itself (including any error)."""
    parser = _Parser(text)
    try:
        get = parser.get_event
        get()  # the stream's start
        if get().__class__ is not yaml.DocumentStartEvent:
            raise _Fallback  # an empty stream
        root: Any = _MISSING
        stack: list[Any] = []  # the open dicts and lists
        pending: list[Any] = []  # for each: the key awaiting its value (_MISSING: a key comes next)
        while True:
            event = get()
            cls = event.__class__
            if cls is yaml.ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                value = event.value
                if event.implicit[0]:
                    value = _plain_scalar(value)
                opened = False
            elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                if event.anchor is not None or event.tag is not None or len(stack) >= _MAX_DEPTH:
                    raise _Fallback
                value = {} if cls is yaml.MappingStartEvent else []
                opened = True
            elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                stack.pop()
                pending.pop()
                continue
            elif cls is yaml.DocumentEndEvent:
                break
            else:  # an alias
                raise _Fallback
            if stack:
                top = stack[-1]
                if top.__class__ is list:
                    top.append(value)
                else:
                    key = pending[-1]
                    if key is _MISSING:
                        # a key: only strings, each once (else the composer reports, by line)
                        if value.__class__ is not str or value in top:
                            raise _Fallback
                        pending[-1] = value
                        continue
                    top[key] = value
                    pending[-1] = _MISSING
            else:
                root = value
            if opened:
                stack.append(value)
                pending.append(_MISSING)
        if get().__class__ is not yaml.StreamEndEvent:
            raise _Fallback  # more than one document: the composer says so
        return root
    except yaml.YAMLError:
        raise _Fallback from None
    finally:
        parser.dispose()


def format_loc(loc: Loc) -> str:
    """Return a pydantic location as a field path: `trade_figures[2].period.end`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


class SourceFile:
    """A parsed YAML file; its node tree (for line numbers) is composed again only when asked for.

    Most files are read by `_fast_data`, which builds the data straight from libyaml's events
    without a node tree: a tree of every file, kept for its line numbers, costs more than the
    parse (and keeps the garbage collector walking millions of objects). Whatever that reader
    does not handle itself (anchors, explicit tags, merge keys, non-string keys, a key given
    twice, a syntax error) is read by the full composer, which reports exactly as before."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = display_path(path)
        self.text = _read_text(path, self.name)
        self._node: yaml.Node | None = None
        self._composed = False
        data: Any = _MISSING
        if _Parser is not None:
            with contextlib.suppress(_Fallback):
                data = _fast_data(self.text)
        self.data: Any = self._compose_and_construct() if data is _MISSING else data
        if not isinstance(self.data, dict):
            raise SeedError([SeedIssue(self.name, 1, "", "expected a mapping at the top of the file")])

    @classmethod
    def parsed(cls, path: Path, name: str, text: str, data: Any) -> SourceFile:
        """Return the file as `parse_file` read it (in another process)."""
        self = cls.__new__(cls)
        self.path, self.name, self.text, self.data = path, name, text, data
        self._node, self._composed = None, False
        return self

    def _compose_and_construct(self) -> Any:
        try:
            # parse once, keeping the node tree (for line numbers) and building the data from it
            loader = _Loader(self.text)
            try:
                self._node = loader.get_single_node()
                self._composed = True
                # aliases may repeat a value many times over, or hold the value they are in: refused
                # before anything walks the tree they make
                collect(_alias_issues(self._node, self.name))
                # a key given twice would silently keep the last value: refused, naming both lines
                collect(_duplicate_keys(self._node, self.name))
                # a value of a type the format does not use (!!set, !!binary, !!python/...): refused
                # before it is built
                collect(_value_issues(self._node, self.name))
                return loader.construct_document(self._node) if self._node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise SeedError([SeedIssue(self.name, line, "", f"not valid YAML: {problem}")]) from None

    @property
    def node(self) -> yaml.Node | None:
        """The file's node tree (composed on first use: only line numbers need it)."""
        if not self._composed:
            loader = _Loader(self.text)
            try:
                self._node = loader.get_single_node()
            finally:
                loader.dispose()
            self._composed = True
        return self._node

    def line_of(self, loc: Loc) -> int | None:
        """Return the 1-based line of the value at `loc`, or of its nearest existing parent."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                child = next((value for key, value in node.value if key.value == part), None)
                if child is None:
                    # tags added by discriminated unions ("definition", "ref") are not keys
                    continue
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def issue(self, loc: Loc, reason: str) -> SeedIssue:
        """Return an issue located at `loc` in this file."""
        return SeedIssue(self.name, self.line_of(loc), format_loc(_public_loc(loc)), reason)

    def parse(self, model: type[ModelT]) -> ModelT:
        """Return the file validated as `model`, or raise SeedError with one issue per problem."""
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise SeedError([self.issue(tuple(err["loc"]), _reason(err)) for err in exc.errors()]) from None

    def parse_list(self, key: str, model: type[ModelT]) -> tuple[list[tuple[int, ModelT]], list[SeedIssue]]:
        """Return the valid entries (with their index) of the list under `key`, and the issues.

        Entries are validated one by one, so a bad entry does not hide the good ones (which
        would turn one mistake into a cascade of "unknown slug" reports elsewhere)."""
        issues = [self.issue((k,), "unknown field") for k in self.data if k != key]
        entries = self.data.get(key)
        if not isinstance(entries, list):
            return [], [*issues, self.issue((key,), f"expected a list under `{key}`")]
        valid: list[tuple[int, ModelT]] = []
        for i, entry in enumerate(entries):
            try:
                valid.append((i, model.model_validate(entry)))
            except ValidationError as exc:
                issues += [self.issue((key, i, *err["loc"]), _reason(err)) for err in exc.errors()]
        return valid, issues


def parse_file(path: Path) -> tuple[str, str, Any] | list[SeedIssue]:
    """Read and parse a seed file: its name, text and data, or what is wrong with it (picklable)."""
    try:
        src = SourceFile(path)
    except SeedError as exc:
        return exc.issues
    return src.name, src.text, src.data


# Files from which they are parsed in worker processes, while this one validates those parsed
PARALLEL_FROM = 64
_CHUNK = 16  # files per hand-over to a worker


def _workers() -> int:
    """Return how many worker processes parse files: one less than the CPUs this process may use."""
    if not hasattr(os, "fork"):
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cpus - 1, 7)


def read_sources(paths: Sequence[Path]) -> Iterator[Callable[[], SourceFile]]:
    """Yield, for each of `paths` in order, a function returning its SourceFile (or raising SeedError).

    With many files, they are parsed (libyaml's events turned into data) in worker processes,
    `_CHUNK` at a time and handed back in order, so that this process validates one file while
    the workers parse the next ones; what is reported, and in which order, does not change."""
    workers = _workers() if len(paths) >= PARALLEL_FROM else 0
    if workers < 1:
        for path in paths:
            yield functools.partial(SourceFile, path)
        return
    # fork: the workers start at once, with everything imported; they only read files and parse
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for path, result in zip(paths, pool.imap(parse_file, paths, chunksize=_CHUNK), strict=True):
            yield functools.partial(_source_of, path, result)


def _source_of(path: Path, result: tuple[str, str, Any] | list[SeedIssue]) -> SourceFile:
    if isinstance(result, list):
        raise SeedError(result)
    name, text, data = result
    return SourceFile.parsed(path, name, text, data)


def _public_loc(loc: Loc) -> Loc:
    return tuple(part for part in loc if part not in ("definition", "ref"))


def _reason(err: Any) -> str:
    msg: str = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


# values a file may hold once its aliases are expanded (the largest seed file holds a few thousand)
MAX_EXPANDED_VALUES = 200_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _alias_issues(root: yaml.Node | None, name: str) -> list[SeedIssue]:
    """Return an issue when an alias holds the value it is in, or aliases expand past MAX_EXPANDED_VALUES.

    Each node is counted once (an alias is the very node it names): a few hundred bytes of
    aliases of aliases expand to billions of values, which every later step would walk."""
    sizes: dict[int, int] = {}  # id(node) -> values in it, once expanded
    open_: set[int] = set()  # the nodes being counted: the current node's ancestors
    stack: list[tuple[yaml.Node, bool]] = [(root, False)] if root is not None else []
    while stack:
        node, counted = stack.pop()
        key = id(node)
        if counted:
            open_.discard(key)
            sizes[key] = size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_EXPANDED_VALUES:
                line = node.start_mark.line + 1
                reason = f"its YAML aliases expand it to more than {MAX_EXPANDED_VALUES:,} values"
                return [SeedIssue(name, line, "", reason)]
        elif key in open_:
            line = node.start_mark.line + 1
            return [SeedIssue(name, line, "", "a YAML alias refers to a value that holds it")]
        elif key not in sizes:
            open_.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return []


def _duplicate_keys(root: yaml.Node | None, name: str) -> list[SeedIssue]:
    """Return an issue for each mapping key given twice in the same mapping, anywhere in the tree."""
    issues: list[SeedIssue] = []
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while stack:  # iterative: a document may nest deeply
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode):
                    if key.value in first:
                        field = f"{path}.{key.value}" if path else key.value
                        issues.append(
                            SeedIssue(name, line, field, f"duplicate key (first given at line {first[key.value]})")
                        )
                    else:
                        first[key.value] = line
                    stack.append((value, f"{path}.{key.value}" if path else str(key.value)))
                else:
                    stack.append((value, path))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return sorted(issues, key=lambda issue: issue.line or 0)


# The types a seed file is written in: strings, numbers, booleans, null, dates, lists and mappings
# (with `<<` merge keys; `value` is the plain `=`, left to its own error). Any other tag builds a
# value the format does not document: a `!!set` (kept in no stable order, so a seed of unchanged
# files would report updates), `!!binary` (bytes, silently taken for text), `!!omap`, `!!pairs`,
# `!!python/...`, a local `!tag`.
_TAGS_USED = frozenset(
    _YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge", "value")
)


def _shown_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


def _number_problem(node: yaml.ScalarNode) -> str | None:
    """Return why a number is not written as one: a notation YAML 1.1 alone reads (0x10, 1_000, 190:20:30)."""
    text = node.value
    if written_plainly(text) or text in _SPELLED:
        return None
    construct = _CONSTRUCTOR.construct_yaml_int if node.tag == _INT else _CONSTRUCTOR.construct_yaml_float
    try:
        read = construct(node)
    except (ValueError, TypeError):
        return None  # no number at all ("!!int abc", "1.2.3"): read as its text, for the schema to judge
    return f"{text} is not a plain decimal number (YAML 1.1 reads it as {read}): write numbers in decimal digits"


def _value_problem(node: yaml.Node) -> str | None:
    """Return why a seed file cannot hold `node`'s value as written, or None."""
    if node.tag not in _TAGS_USED:
        return (
            f"the YAML tag {_shown_tag(node.tag)} is not used in seed files: values are plain strings, numbers,"
            " booleans, null, dates, lists and mappings"
        )
    if node.tag in _NUMBERS and isinstance(node, yaml.ScalarNode):
        return _number_problem(node)
    return None


def _value_issues(root: yaml.Node | None, name: str) -> list[SeedIssue]:
    """Return an issue for each value (or key) anywhere in the tree that `_value_problem` refuses."""
    issues: list[SeedIssue] = []
    seen: set[int] = set()  # a node an alias repeats is looked at once
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while stack:  # iterative: a document may nest deeply
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        problem = _value_problem(node)
        if problem is not None:
            issues.append(SeedIssue(name, node.start_mark.line + 1, path, problem))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, path))
                named = isinstance(key, yaml.ScalarNode)
                stack.append((value, (f"{path}.{key.value}" if path else str(key.value)) if named else path))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return sorted(issues, key=lambda issue: issue.line or 0)


def _read_text(path: Path, name: str) -> str:
    raw = read_seed_bytes(path, name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedError([SeedIssue(name, None, "", f"not UTF-8 (byte {exc.start}: {exc.reason})")]) from None


def read_article_text(path: Path, name: str | None = None) -> str:
    """Return an article's text exactly as stored: UTF-8, newlines untouched (`name`: as shown)."""
    name = display_path(path) if name is None else name
    raw = read_seed_bytes(path, name, missing="article text not found beside its annotation")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedError([SeedIssue(name, None, "", f"not UTF-8 (byte {exc.start}: {exc.reason})")]) from None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration (reference counting still frees).

    A seed builds hundreds of thousands of objects that live until it ends (parsed files, models,
    rows, shingle postings) and next to no garbage in cycles; with the collector on, every
    full collection walks all of them again, which made reading a corpus several times slower."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
