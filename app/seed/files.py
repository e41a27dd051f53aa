"""Seed files on disk: finding them, reading their bytes safely, hashing them; the seed's errors.

Standard library only (and the settings): `tradegraph seed` decides from these alone, before it
loads the YAML reader, the models or SQLAlchemy, whether anything changed since the last seed.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.config import PROJECT_ROOT, get_settings

REGISTRY_FILES = {"places.yaml": "places", "organisations.yaml": "organisations", "people.yaml": "people"}


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


def collect(issues: Iterable[SeedIssue]) -> None:
    """Raise SeedError if there are any issues."""
    found = list(issues)
    if found:
        raise SeedError(found)


def resolved(path: Path) -> Path:
    """Return `path` made absolute, symlinks followed where they lead somewhere (never raising)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the path as written is all there is
        return Path(os.path.abspath(path))


def display_path(path: Path) -> str:
    """Return `path` relative to the project (or the working directory) when it lies inside."""
    resolved_ = resolved(path)
    for base in (Path.cwd(), PROJECT_ROOT):
        if resolved_.is_relative_to(base):
            return str(resolved_.relative_to(base))
    return str(path)


def max_file_bytes() -> int:
    """Return the size above which a seed file is refused (SEED_MAX_FILE_BYTES)."""
    return get_settings().seed_max_file_bytes


def read_seed_bytes(path: Path, name: str, *, missing: str = "file not found") -> bytes:
    """Return the bytes of a seed file; raise SeedError unless it is a regular file within the size limit.

    A FIFO or a device would block the read or never end it, a symlink loop never resolves and a
    huge file would be read whole into memory: each is refused, naming the file and the reason."""
    limit = max_file_bytes()

    def refuse(reason: str) -> SeedError:
        return SeedError([SeedIssue(name, None, "", reason)])

    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer; the type is checked on the open file
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise refuse(missing) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refuse("a symlink loop (it never leads to a file)") from None
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "a device"
                if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a directory"
                if stat.S_ISDIR(info.st_mode)
                else "a socket"
                if stat.S_ISSOCK(info.st_mode)
                else "not a regular file"
            )
            raise refuse(f"not a regular file ({kind}): seed files must be plain files")
        if info.st_size > limit:
            raise refuse(f"{info.st_size} bytes, over the limit of {limit} per file (SEED_MAX_FILE_BYTES)")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # read no more than the limit, even if the file grows meanwhile
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise refuse(f"over the limit of {limit} bytes per file (SEED_MAX_FILE_BYTES)")
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataclasses.dataclass(frozen=True)
class Discovered:
    registries: list[Path]
    annotations: list[Path]
    real: dict[Path, Path] = dataclasses.field(default_factory=dict)  # each file's resolved path


def discover(paths: Sequence[Path]) -> Discovered:
    """Return the registry and annotation files under `paths` (directories or files)."""
    registries: list[Path] = []
    annotations: list[Path] = []
    issues: list[SeedIssue] = []
    seen: set[Path] = set()
    real: dict[Path, Path] = {}
    for path in paths:
        within: Path | None = None  # the directory's resolved path, when `path` is one
        if path.is_dir():
            try:
                names = sorted(os.listdir(path))
            except OSError as exc:
                issues.append(SeedIssue(display_path(path), None, "", f"cannot be read: {exc.strerror or exc}"))
                continue
            within = resolved(path)
            files = [path / n for n in names if n.endswith(".yaml")]
            stems = {f.stem for f in files}
            texts = [path / n for n in names if n.endswith(".txt")]
            issues += [
                SeedIssue(display_path(t), None, "", f"article text has no annotation ({t.stem}.yaml)")
                for t in texts
                if t.stem not in stems
            ]
        elif path.suffix == ".txt":
            files = [path.with_suffix(".yaml")]
        elif path.is_file() or path.exists() or path.is_symlink():
            # not only regular files: a FIFO, a device or a symlink loop is refused when read, by name
            files = [path]
            # an annotation refers to the registries beside it; take them along
            files += [path.parent / name for name in REGISTRY_FILES if (path.parent / name).is_file()]
        else:
            issues.append(SeedIssue(display_path(path), None, "", "no such file or directory"))
            continue
        for file in files:
            bucket = registries if file.name in REGISTRY_FILES else annotations
            # a file that is not a symlink lies where its directory does: one lstat, not a walk
            where = within / file.name if within is not None and not file.is_symlink() else resolved(file)
            if where not in seen:
                seen.add(where)
                real[file] = where
                bucket.append(file)
    collect(issues)
    if not registries and not annotations:
        raise SeedError([SeedIssue(", ".join(map(str, paths)), None, "", "no seed files found")])
    return Discovered(registries, annotations, real)


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    sha256: str  # of the file, and of the article text beside an annotation
    text_sha256: str | None  # of the article text alone


def fingerprint(path: Path, *, registry: bool) -> Fingerprint | None:
    """Return the content hashes of a seed file (None when it cannot be read: validation says why)."""
    # read as validation reads (regular files within the size limit): a FIFO or a device must not hang here
    try:
        # (the name is for a refusal, which validation reports itself: not worth resolving the path)
        data = read_seed_bytes(path, str(path))
        if registry:
            return Fingerprint(hashlib.sha256(data).hexdigest(), None)
        text = read_seed_bytes(path.with_suffix(".txt"), str(path))
    except SeedError:
        return None
    text_sha = hashlib.sha256(text).hexdigest()
    return Fingerprint(hashlib.sha256(data + b"\0" + text_sha.encode()).hexdigest(), text_sha)


def seed_directory(paths: Sequence[Path]) -> Path:
    """Return the directory the manifest's paths are relative to: the one seeded (a file's own
    directory), or the innermost directory holding all of them."""
    dirs = [resolved(p) if p.is_dir() else resolved(p).parent for p in paths]
    return Path(os.path.commonpath(dirs)) if dirs else Path.cwd()


def manifest_key(path: Path, base: Path, *, real: Path | None = None) -> str:
    """Return the manifest's key of a seed file: its path relative to the seed directory `base`.

    Relative, so that the corpus (a checkout) may move without its files counting as new.
    `real`: the file's resolved path, when known."""
    real = resolved(path) if real is None else real
    return real.relative_to(base).as_posix() if real.is_relative_to(base) else str(real)
