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
import time
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
    """Return `path` relative to the project (or else the working directory) when it lies inside.

    The project first: its own seed files are shown, and stored as articles' source files, alike
    from whatever directory a seed runs (a second seed from elsewhere changes no row)."""
    resolved_ = resolved(path)
    for base in (PROJECT_ROOT, Path.cwd()):
        if resolved_.is_relative_to(base):
            return str(resolved_.relative_to(base))
    return str(path)


def text_display_paths(annotations: Iterable[tuple[str, Path | str, str, bool, str | None]]) -> dict[str, str]:
    """Return, by key, `display_path` of the text file beside each annotation, as a seed stores it.

    `annotations`: (key, annotation, its resolved path, whether its directory's listing showed it
    and its text as no symlinks, what is stored now). Most often the same file seen from the same
    place: that is checked on the strings alone, without resolving the file again (30 us a file:
    0.6 s for 20,000), nor asking whether it is a link when the listing said."""
    bases = [os.path.join(base, "") for base in (str(PROJECT_ROOT), os.getcwd())]
    shown: dict[str, str] = {}
    for key, annotation, real, plain, stored in annotations:
        given = str(annotation)
        given_text = given[: -len(os.path.splitext(given)[1]) or None] + ".txt"
        if not plain and (os.path.islink(given) or os.path.islink(given_text)):
            # the text is not beside the annotation's resolved path: resolved as the seed resolves it
            shown[key] = display_path(Path(given_text))
            continue
        real_text = real[: -len(os.path.splitext(real)[1]) or None] + ".txt"
        inside = next((b for b in bases if real_text.startswith(b)), None)
        cheap = real_text[len(inside) :] if inside else given_text  # (outside both: shown as given)
        shown[key] = stored if cheap == stored and stored is not None else display_path(Path(given_text))
    return shown


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
    real: dict[Path, str] = dataclasses.field(default_factory=dict)  # each file's resolved path
    at: dict[Path, str] = dataclasses.field(default_factory=dict)  # where each file lies (see SeedFile.at)
    plain: set[Path] = dataclasses.field(default_factory=set)  # files (and texts) its listing showed as no symlinks


@dataclasses.dataclass(frozen=True, slots=True)
class SeedFile:
    path: str  # as found: a seeded directory's path and the file's name, or the file as given
    real: str  # resolved, symlinks followed
    registry: bool
    plain: bool  # its directory's listing showed it (and an annotation's text) as no symlink
    # where it lies: in a seeded directory, the directory's resolved path and its name (a symlink's
    # own place, not its target's: its manifest key stays in the directory, and goes when it goes);
    # else its resolved path
    at: str


def _stem(name: str, suffix: str) -> str:
    """Return `name` without `suffix`, as Path(name).stem does (".txt" alone is a name, not a suffix)."""
    return name[: -len(suffix)] if len(name) > len(suffix) else name


def discover(paths: Sequence[Path], scanned: Sequence[SeedFile] | None = None) -> Discovered:
    """Return the registry and annotation files under `paths` (directories or files; `scanned`: as scan found them)."""
    registries: list[Path] = []
    annotations: list[Path] = []
    real: dict[Path, str] = {}
    at: dict[Path, str] = {}
    plain: set[Path] = set()
    for found in scan(paths) if scanned is None else scanned:
        file = Path(found.path)
        real[file] = found.real
        at[file] = found.at
        if found.plain:
            plain.add(file)
        (registries if found.registry else annotations).append(file)
    return Discovered(registries, annotations, real=real, at=at, plain=plain)


def scan(paths: Sequence[Path]) -> list[SeedFile]:
    """Return the seed files under `paths` (directories or files), each once, as strings (see discover).

    A corpus directory holds tens of thousands of files, and a seed with nothing to do looks at
    each of them: names and strings here, not Path objects, which cost more than the lookup."""
    out: list[SeedFile] = []
    issues: list[SeedIssue] = []
    seen: set[str] = set()
    for path in paths:
        found: list[tuple[str, str]]  # (name, path)
        within: str | None = None  # the directory's resolved path, when `path` is one
        links: set[str] = set()  # the names in it that are symlinks
        kinds: dict[str, bool] = {}  # every name in it: whether it is a symlink
        if path.is_dir():
            try:
                with os.scandir(path) as listing:  # the entries' types come with the listing
                    kinds = {entry.name: entry.is_symlink() for entry in listing}
            except OSError as exc:
                issues.append(SeedIssue(display_path(path), None, "", f"cannot be read: {exc.strerror or exc}"))
                continue
            names = sorted(kinds)
            links = {name for name, link in kinds.items() if link}
            within = str(resolved(path))
            directory = str(path)
            found = [(n, os.path.join(directory, n)) for n in names if n.endswith(".yaml")]
            stems = {_stem(n, ".yaml") for n, _ in found}
            issues += [
                SeedIssue(display_path(path / n), None, "", f"article text has no annotation ({_stem(n, '.txt')}.yaml)")
                for n in names
                if n.endswith(".txt") and _stem(n, ".txt") not in stems
            ]
        elif path.suffix == ".txt" or path.is_file() or path.exists() or path.is_symlink():
            # an article's text stands for its annotation; not only regular files: a FIFO, a device or a
            # symlink loop is refused when read, by name
            annotation = path.with_suffix(".yaml") if path.suffix == ".txt" else path
            found = [(annotation.name, str(annotation))]
            # an annotation refers to the registries beside it; take them along
            found += [(name, str(path.parent / name)) for name in REGISTRY_FILES if (path.parent / name).is_file()]
        else:
            issues.append(SeedIssue(display_path(path), None, "", "no such file or directory"))
            continue
        for name, file in found:
            # a file that is not a symlink lies where its directory does: no walk of its path
            where = (
                os.path.join(within, name) if within is not None and name not in links else str(resolved(Path(file)))
            )
            if where not in seen:
                seen.add(where)
                registry = name in REGISTRY_FILES
                text = name if registry else _stem(name, ".yaml") + ".txt"
                plain = within is not None and name not in links and text in kinds and text not in links
                at = os.path.join(within, name) if within is not None else where
                out.append(SeedFile(file, where, registry, plain, at))
    collect(issues)
    if not out:
        raise SeedError([SeedIssue(", ".join(map(str, paths)), None, "", "no seed files found")])
    return out


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    sha256: str  # of the file, and of the article text beside an annotation
    text_sha256: str | None  # of the article text alone
    stat: str | None = None  # the files' status as they were read (see file_stat), if old enough to trust


# A file changed this shortly before it was read may change again without its status showing it
# (timestamps have a granularity: a tick of the kernel's clock, 2 s on FAT): its status is not
# recorded, and the next seed hashes it again.
SETTLED_NS = 2_000_000_000


def _status(info: os.stat_result) -> str:
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def _stats(path: Path | str, *, registry: bool) -> list[os.stat_result] | None:
    name = os.fspath(path)  # strings: this runs for every file of a corpus on every seed
    try:
        return [os.stat(name)] if registry else [os.stat(name), os.stat(os.path.splitext(name)[0] + ".txt")]
    except OSError:
        return None


def file_stat(path: Path | str, *, registry: bool) -> str | None:
    """Return the status of a seed file (and of its article text): device, inode, size, mtime, ctime.

    Equal to the status a fingerprint recorded, the files were not written since they were hashed,
    as git's index trusts a file whose status it has seen (any write changes the ctime, which no
    tool can set back); None when a file cannot be looked at."""
    infos = _stats(path, registry=registry)
    return None if infos is None else "|".join(map(_status, infos))


def fingerprint(path: Path, *, registry: bool) -> Fingerprint | None:
    """Return the content hashes of a seed file (None when it cannot be read: validation says why)."""
    now = time.time_ns()
    # the status before the read: a write after it changes the status, and the next seed hashes again
    infos = _stats(path, registry=registry)
    status = (
        "|".join(map(_status, infos))
        if infos and all(now - max(i.st_mtime_ns, i.st_ctime_ns) >= SETTLED_NS for i in infos)
        else None
    )
    # read as validation reads (regular files within the size limit): a FIFO or a device must not hang here
    try:
        # (the name is for a refusal, which validation reports itself: not worth resolving the path)
        data = read_seed_bytes(path, str(path))
        if registry:
            return Fingerprint(hashlib.sha256(data).hexdigest(), None, status)
        text = read_seed_bytes(path.with_suffix(".txt"), str(path))
    except SeedError:
        return None
    text_sha = hashlib.sha256(text).hexdigest()
    return Fingerprint(hashlib.sha256(data + b"\0" + text_sha.encode()).hexdigest(), text_sha, status)


def seed_directory(paths: Sequence[Path]) -> Path:
    """Return the directory the manifest's paths are relative to: the one seeded (a file's own
    directory), or the innermost directory holding all of them."""
    dirs = [resolved(p) if p.is_dir() else resolved(p).parent for p in paths]
    return Path(os.path.commonpath(dirs)) if dirs else Path.cwd()


def manifest_key(path: Path | str, base: Path, *, real: str | None = None) -> str:
    """Return the manifest's key of a seed file: its path relative to the seed directory `base`.

    Relative, so that the corpus (a checkout) may move without its files counting as new.
    `real`: the file's resolved path, when known."""
    where = str(resolved(Path(path))) if real is None else real
    if where == str(base):
        return "."
    inside = os.path.join(str(base), "")  # with the separator: /a/bc is not inside /a/b
    return where[len(inside) :] if where.startswith(inside) else where
