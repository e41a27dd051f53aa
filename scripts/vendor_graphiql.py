#!/usr/bin/env python3
"""Vendor GraphiQL, its explorer plugin and React into app/static/graphiql/ so /graphql works with no CDN.

    python3 scripts/vendor_graphiql.py           fetch the pinned packages with `npm pack`, copy their
                                                 browser builds here and rewrite VERSIONS.txt
    python3 scripts/vendor_graphiql.py --check   offline: verify the copied files against VERSIONS.txt

Only the standard library and the `npm` command (for the fetch) are needed. The packages come from
whatever registry npm is configured to use; each tarball's integrity is checked by npm and recorded.
GraphiQL stays on 3.x: it is the last line that ships a single-file UMD build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "app" / "static" / "graphiql"
VERSIONS = DEST / "VERSIONS.txt"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: tuple[tuple[str, str], ...]  # (path inside the tarball, file name in DEST)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES = (
    Package(
        "graphiql",
        "3.8.3",
        (
            ("package/graphiql.min.js", "graphiql.min.js"),
            ("package/graphiql.min.css", "graphiql.min.css"),
            ("package/LICENSE", "LICENSE-graphiql.txt"),
        ),
    ),
    Package(
        # the query builder in GraphiQL's sidebar; 3.2.5 is the release for graphiql 3.8 (@graphiql/react 0.28)
        "@graphiql/plugin-explorer",
        "3.2.5",
        (
            ("package/dist/index.umd.js", "graphiql-plugin-explorer.umd.js"),
            ("package/dist/style.css", "graphiql-plugin-explorer.css"),
            # the package ships no LICENSE file: its package.json records the license (MIT)
            ("package/package.json", "LICENSE-graphiql-plugin-explorer.package.json"),
        ),
    ),
    Package(
        "react",
        "18.3.1",
        (
            ("package/umd/react.production.min.js", "react.production.min.js"),
            ("package/LICENSE", "LICENSE-react.txt"),
        ),
    ),
    Package(
        "react-dom",
        "18.3.1",
        (
            ("package/umd/react-dom.production.min.js", "react-dom.production.min.js"),
            ("package/LICENSE", "LICENSE-react-dom.txt"),
        ),
    ),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_pack(pkg: Package, workdir: Path) -> tuple[Path, str]:
    """Download `pkg`'s tarball into `workdir` with `npm pack`; return it and npm's integrity."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed to fetch the packages (Debian: apt-get install npm)")
    result = subprocess.run([npm, "pack", pkg.spec, "--json", "--silent"], cwd=workdir, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"npm pack {pkg.spec} failed:\n{result.stderr.strip()}")
    info = json.loads(result.stdout)[0]
    return workdir / info["filename"], str(info["integrity"])


def extract(tarball: Path, pkg: Package, dest: Path) -> None:
    """Copy only the listed members of `tarball` into `dest` (no extraction of arbitrary paths)."""
    with tarfile.open(tarball, "r:gz") as tar:
        for member_name, out_name in pkg.files:
            try:
                member = tar.getmember(member_name)
            except KeyError:
                sys.exit(f"{pkg.spec}: {member_name} is not in the tarball; the package layout changed")
            source = tar.extractfile(member) if member.isfile() else None
            if source is None:
                sys.exit(f"{pkg.spec}: {member_name} is not a regular file")
            with source, (dest / out_name).open("wb") as out:
                shutil.copyfileobj(source, out)


def write_versions(integrity: dict[str, str]) -> None:
    lines = [
        "# Vendored by scripts/vendor_graphiql.py: do not edit by hand; rerun the script instead.",
        "# package@version  npm-integrity",
        "#   sha256  file  bytes",
    ]
    for pkg in PACKAGES:
        lines.append(f"{pkg.spec}  {integrity[pkg.spec]}")
        for _, out_name in pkg.files:
            path = DEST / out_name
            lines.append(f"  {sha256(path)}  {out_name}  {path.stat().st_size}")
    VERSIONS.write_text("\n".join(lines) + "\n", encoding="utf-8")


def vendor() -> None:
    DEST.mkdir(parents=True, exist_ok=True)
    integrity: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="vendor-graphiql-") as tmp:
        work = Path(tmp)
        for pkg in PACKAGES:
            print(f"npm pack {pkg.spec}", flush=True)
            tarball, integrity[pkg.spec] = npm_pack(pkg, work)
            extract(tarball, pkg, DEST)
    write_versions(integrity)
    total = 0
    for pkg in PACKAGES:
        for _, out_name in pkg.files:
            size = (DEST / out_name).stat().st_size
            total += size
            print(f"  {out_name:32} {size:>10,} bytes")
    print(f"wrote {VERSIONS.relative_to(ROOT)}; {total:,} bytes in all")


def check() -> int:
    """Return 0 when every file listed in VERSIONS.txt exists with its recorded sha256."""
    if not VERSIONS.exists():
        print(f"{VERSIONS.relative_to(ROOT)} is missing: run scripts/vendor_graphiql.py")
        return 1
    expected = {pkg.spec: {out_name for _, out_name in pkg.files} for pkg in PACKAGES}
    listed: dict[str, set[str]] = {}
    problems: list[str] = []
    current = ""
    for line in VERSIONS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            current = line.split()[0]
            listed[current] = set()
            continue
        digest, name, _size = line.split()
        listed.setdefault(current, set()).add(name)
        path = DEST / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 differs from VERSIONS.txt")
    if listed != expected:
        problems.append("VERSIONS.txt does not match the pinned packages: rerun scripts/vendor_graphiql.py")
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{sum(len(v) for v in listed.values())} vendored files match VERSIONS.txt")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify the vendored files offline")
    args = parser.parse_args()
    if args.check:
        sys.exit(check())
    vendor()


if __name__ == "__main__":
    main()
