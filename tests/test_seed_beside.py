"""Near-duplicates decided in a child process while the seed writes the rows (app.seed.beside).

The child's result, its failure and its death reach the seed as a result or an error; a seed that
fails either way writes nothing and leaves no child behind; with it, a seed counts and writes what
it does without it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

from app.seed import beside, load, pipeline
from app.seed.load import Summary
from app.seed.pipeline import seed
from bench.generate import synthesize, write_corpus_dir
from tests.conftest import engine_for
from tests.test_bench_smoke import canonical

pytestmark = pytest.mark.skipif(not beside.available(), reason="needs fork and two CPUs")


def test_the_result_comes_back_from_the_child() -> None:
    data = np.arange(1_000_000)  # inherited by the child, not sent to it
    running = beside.Beside(lambda: {"sum": int(data.sum()), "pid": os.getpid()}, name="a sum")
    result = running.result()
    assert result["sum"] == 499_999_500_000
    assert result["pid"] != os.getpid()
    assert running.result() is result  # asked again: the same, without waiting
    running.close()


def _fails() -> NoReturn:
    raise ValueError("no such text")


def test_a_failure_in_the_child_is_raised_with_its_traceback() -> None:
    running = beside.Beside(_fails, name="a comparison")
    with pytest.raises(RuntimeError, match=r"(?s)a comparison failed:.*ValueError: no such text"):
        running.result()
    running.close()


def test_a_child_that_dies_is_an_error_naming_its_exit_code() -> None:
    running = beside.Beside(lambda: os._exit(3), name="a comparison")
    with pytest.raises(RuntimeError, match=r"a comparison ended without a result \(exit code 3\)"):
        running.result()
    running.close()


def test_closing_stops_a_child_still_running() -> None:
    running = beside.Beside(lambda: time.sleep(60), name="a long comparison")
    started = time.perf_counter()
    running.close()
    assert time.perf_counter() - started < 10
    assert running._process.exitcode is not None  # ended, and reaped


def test_a_child_whose_parent_is_killed_ends_at_once() -> None:
    # the parent, a process of its own, starts a child that would compute for a minute, then is
    # killed without running any `finally`: the child must not outlive it (it would keep the
    # parent's database connection, and the seed lock, open)
    script = (
        "import os, sys, time\n"
        "from app.seed.beside import Beside\n"
        "running = Beside(lambda: time.sleep(60) or b'x' * 10**6, name='a long comparison')\n"
        "print(running._process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus"
    write_corpus_dir(synthesize("T"), path)
    return path


def _seed(url: str, corpus: Path, *, beside_from: int) -> Summary:
    with engine_for(url) as engine, pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "BESIDE_FROM", beside_from)
        return seed(engine, [corpus])


def test_a_seed_beside_counts_and_writes_what_one_without_does(
    corpus: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    monkeypatch.setattr(beside, "Beside", _recording(beside.Beside, started))
    with_child, without = fresh_database(), fresh_database()
    first = _seed(with_child, corpus, beside_from=1)
    assert started == ["near-duplicate detection"]
    assert first.tables == _seed(without, corpus, beside_from=10**9).tables
    assert first.tables["articles"].inserted == 12
    assert canonical(with_child) == canonical(without)
    # a text that takes in another one's becomes its longer version: the other (unread) is linked
    [text] = sorted(corpus.glob("0000011_*.txt"))
    [other] = sorted(corpus.glob("0000002_*.txt"))
    body = text.read_text(encoding="utf-8") + "\n" + other.read_text(encoding="utf-8")
    text.write_text(body, encoding="utf-8")
    annotation = text.with_suffix(".yaml")
    lines = annotation.read_text(encoding="utf-8").splitlines()
    digest = hashlib.sha256(body.encode()).hexdigest()
    annotation.write_text(
        "\n".join(f"  sha256: {digest}" if line.startswith("  sha256: ") else line for line in lines) + "\n",
        encoding="utf-8",
    )
    second = _seed(with_child, corpus, beside_from=1)
    assert started == ["near-duplicate detection"] * 2
    assert second.tables == _seed(without, corpus, beside_from=10**9).tables
    assert second.tables["articles"].updated == 2  # the text changed, and the other's link
    assert canonical(with_child) == canonical(without)


def _recording(cls: Any, started: list[str]) -> Any:
    def make(work: Callable[[], Any], *, name: str) -> Any:
        started.append(name)
        return cls(work, name=name)

    return make


def test_a_seed_whose_child_fails_writes_nothing(
    corpus: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database()
    before = canonical(url)
    monkeypatch.setattr(pipeline, "_decide", lambda *args, **kwargs: os._exit(9))  # the child dies
    with pytest.raises(RuntimeError, match=r"exit code 9"):
        _seed(url, corpus, beside_from=1)
    assert canonical(url) == before
    monkeypatch.undo()
    assert _seed(url, corpus, beside_from=1).tables["articles"].inserted == 12  # the seed lock is free


def test_a_seed_failing_while_its_child_runs_leaves_no_child(
    corpus: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database()
    before = canonical(url)
    decide = pipeline._decide

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(60)
        return decide(*args, **kwargs)

    def refused(*args: Any, **kwargs: Any) -> NoReturn:
        raise OSError("the disk is full")

    monkeypatch.setattr(pipeline, "_decide", slow)
    monkeypatch.setattr(load._Writer, "conversions", refused)  # before the links are needed
    children = set(multiprocessing.active_children())  # (others, such as the API's planner, stay)
    started = time.perf_counter()
    with pytest.raises(OSError, match="the disk is full"):
        _seed(url, corpus, beside_from=1)
    assert time.perf_counter() - started < 30
    assert set(multiprocessing.active_children()) <= children
    assert canonical(url) == before
