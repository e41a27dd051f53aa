"""The `draft` command's files: checking the input texts, naming and writing the outputs.

Each article becomes `NNN_<hash>.txt` (an exact copy) and `NNN_<hash>.yaml` (its draft) in the
output directory, numbered after the corpus it will join; the registry entries proposed for new
places, organisations and people go to `places.yaml`, `organisations.yaml` and `people.yaml`
there, beside any already proposed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from app.draft.candidates import Candidate
from app.draft.document import Drafter
from app.draft.gazetteer import load_registries

MAX_BYTES = 1_000_000  # a news article is a few kilobytes; anything this large is not one
REGISTRY_KEYS = {
    "place": ("places.yaml", "places"),
    "organisation": ("organisations.yaml", "organisations"),
    "person": ("people.yaml", "people"),
}


class InputError(Exception):
    """An article file that cannot be drafted; the message is `file: reason`."""


def read_article(path: Path) -> str:
    """Return the text of an article file, or raise InputError saying why it is not one."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{path}: is a directory, not an article text")
        if not stat.S_ISREG(mode):
            # a device or a named pipe ("/dev/zero", a FIFO) never ends, or waits for a writer
            raise InputError(f"{path}: not a regular file (a device, a pipe or a socket), not an article text")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)  # no more than the limit, whatever the file claims
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an article text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: over the {MAX_BYTES}-byte limit for one article")
    if b"\x00" in raw:
        raise InputError(f"{path}: binary file (contains NUL bytes), not an article text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start}: {exc.reason})") from None
    if not text.strip():
        raise InputError(f"{path}: empty file")
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t")
    if controls > len(text) // 100:
        raise InputError(f"{path}: binary file ({controls} control characters), not an article text")
    return text


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a period shared by two figures is written out twice, not as &id001/*id001


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)


def _annotated_slugs(directory: Path) -> tuple[set[str], int]:
    """Return the article, figure and event slugs defined under `directory` and the highest NNN."""
    slugs: set[str] = set()
    highest = -1
    for path in sorted(directory.glob("*.yaml")):
        m = re.match(r"(\d{3})_", path.name)
        if m is None:
            continue
        highest = max(highest, int(m.group(1)))
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        slugs.add(str((data.get("article") or {}).get("slug")))
        for key in ("trade_figures", "events"):
            slugs |= {str(e["slug"]) for e in data.get(key) or [] if isinstance(e, dict) and "slug" in e}
    return slugs, highest


@dataclasses.dataclass
class Written:
    source: Path
    text: Path
    annotation: Path
    figures: int
    mentions: int
    events: int


def draft_files(paths: list[Path], out: Path, seeds: Path) -> tuple[list[Written], list[str]]:
    """Draft every readable article in `paths` into `out`; return what was written and the errors."""
    errors: list[str] = []
    texts: list[tuple[Path, str]] = []
    for path in paths:
        try:
            texts.append((path, read_article(path)))
        except InputError as exc:
            errors.append(str(exc))
    if not texts:
        return [], errors
    out.mkdir(parents=True, exist_ok=True)
    registries = load_registries([seeds, out])
    seed_slugs, seed_high = _annotated_slugs(seeds)
    out_slugs, out_high = _annotated_slugs(out)
    drafter = Drafter(registries, seed_slugs | out_slugs)
    number = max(seed_high, out_high) + 1
    proposals: dict[str, list[dict[str, Any]]] = {kind: [] for kind in REGISTRY_KEYS}
    written = []
    for path, text in texts:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        stem = f"{number:03d}_{digest}"
        number += 1
        draft = drafter.draft(text, name=path.stem)
        for c in draft.proposals:
            _propose(proposals, c)
        txt, ann = out / f"{stem}.txt", out / f"{stem}.yaml"
        txt.write_bytes(text.encode("utf-8"))
        header = (
            f"# Draft of {path.name}, made by `tradegraph draft`. Every fact is `review: pending`:\n"
            "# check each against the text, correct or delete it, then set `review: accepted`.\n"
        )
        ann.write_text(header + _dump(draft.annotation), encoding="utf-8")
        a = draft.annotation
        written.append(Written(path, txt, ann, len(a["trade_figures"]), len(a["mentions"]), len(a["events"])))
    _write_registries(out, proposals)
    return written, errors


def _propose(proposals: dict[str, list[dict[str, Any]]], candidate: Candidate) -> None:
    bucket = proposals[candidate.kind]
    if all(e["slug"] != candidate.slug for e in bucket):
        entry = {k: v for k, v in candidate.entry.items() if v not in (None, [])}
        if candidate.kind != "person":  # people have no note field
            entry["note"] = "Proposed by `tradegraph draft`; check the identifiers before accepting."
        bucket.append(entry)


def _write_registries(out: Path, proposals: dict[str, list[dict[str, Any]]]) -> None:
    for kind, (name, key) in REGISTRY_KEYS.items():
        path = out / name
        existing: list[dict[str, Any]] = []
        if path.is_file():
            existing = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(key) or []
        have = {e.get("slug") for e in existing}
        new = [e for e in proposals[kind] if e["slug"] not in have]
        if not new:
            continue
        # countries first, so a city's parent is defined above it
        entries = sorted([*existing, *new], key=lambda e: 0 if e.get("kind") == "country" else 1)
        path.write_text(
            f"# Proposed {key} for the drafts beside this file (not yet in the corpus registries).\n"
            + _dump({key: entries}),
            encoding="utf-8",
        )
