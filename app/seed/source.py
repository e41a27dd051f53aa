"""Reading seed files: YAML that remembers where each value came from, and seed errors.

Every problem found in the input becomes a `SeedIssue` naming the file, the line and the
field, so an operator can go straight to it. Nothing here touches the database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.config import PROJECT_ROOT

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


Loc = tuple[str | int, ...]


def display_path(path: Path) -> str:
    """Return `path` relative to the project (or the working directory) when it lies inside."""
    resolved = path.resolve()
    for base in (Path.cwd(), PROJECT_ROOT):
        if resolved.is_relative_to(base):
            return str(resolved.relative_to(base))
    return str(path)


def format_loc(loc: Loc) -> str:
    """Return a pydantic location as a field path: `trade_figures[2].period.end`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


@dataclasses.dataclass(frozen=True)
class SeedIssue:
    file: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.reason}"


class SeedError(Exception):
    """Raised with every issue found; the seed writes nothing when it is raised."""

    def __init__(self, issues: Sequence[SeedIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class SourceFile:
    """A parsed YAML file together with its node tree, for line numbers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = display_path(path)
        text = _read_text(path, self.name)
        try:
            # parse once, keeping the node tree (for line numbers) and building the data from it
            loader = _Loader(text)
            try:
                self.node = loader.get_single_node()
                self.data: Any = loader.construct_document(self.node) if self.node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise SeedError([SeedIssue(self.name, line, "", f"not valid YAML: {problem}")]) from None
        if not isinstance(self.data, dict):
            raise SeedError([SeedIssue(self.name, 1, "", "expected a mapping at the top of the file")])

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


def _public_loc(loc: Loc) -> Loc:
    return tuple(part for part in loc if part not in ("definition", "ref"))


def _reason(err: Any) -> str:
    msg: str = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def _read_text(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError([SeedIssue(name, None, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise SeedError([SeedIssue(name, None, "", f"not UTF-8 (byte {exc.start}: {exc.reason})")]) from None


def read_article_text(path: Path) -> str:
    """Return an article's text exactly as stored: UTF-8, newlines untouched."""
    name = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SeedError([SeedIssue(name, None, "", "article text not found beside its annotation")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedError([SeedIssue(name, None, "", f"not UTF-8 (byte {exc.start}: {exc.reason})")]) from None


def collect(issues: Iterable[SeedIssue]) -> None:
    """Raise SeedError if there are any issues."""
    found = list(issues)
    if found:
        raise SeedError(found)
