"""rag.judges.cache: verdicts cached on disk, keyed by the judge, read by a new process, a torn last
line tolerated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO

from rag.judges import CachedJudge

if TYPE_CHECKING:
    from conftest import RuleJudge


PAIRS = [("the sky is blue today", "sky is blue"), ("grass is green", "sky is blue"), ("a b c", "b c")]


EXPECTED = [True, False, True]


def test_cached_judge_serves_second_call_from_cache(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    inner = rule_judge("substring")
    judge = CachedJudge(inner, tmp_path)
    assert judge.entails_batch(PAIRS) == EXPECTED
    assert len(inner.batches) == 1
    assert judge.entails_batch(PAIRS) == EXPECTED
    assert judge.entails(*PAIRS[1]) is False
    assert len(inner.batches) == 1  # nothing new asked
    assert judge.hits == 4 and judge.misses == 3
    assert judge.name == "scripted" and judge.official is False


def test_cached_judge_asks_only_for_unknown_and_unique_pairs(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    inner = rule_judge("substring")
    judge = CachedJudge(inner, tmp_path)
    judge.entails_batch(PAIRS[:1])
    new = ("x y", "y")
    assert judge.entails_batch([PAIRS[0], new, new, PAIRS[1]]) == [True, True, True, False]
    assert inner.batches[1] == [new, PAIRS[1]]


def test_cache_is_keyed_by_judge_name(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    a, b = rule_judge("substring", name="a"), rule_judge("substring", name="b")
    CachedJudge(a, tmp_path).entails_batch(PAIRS)
    CachedJudge(b, tmp_path).entails_batch(PAIRS)
    assert len(a.batches) == 1 and len(b.batches) == 1
    assert CachedJudge(a, tmp_path).key("p", "h") != CachedJudge(b, tmp_path).key("p", "h")
    assert CachedJudge(a, tmp_path).key("p", "h") != CachedJudge(a, tmp_path).key("p", "h2")


def test_cache_read_by_a_new_process(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    CachedJudge(rule_judge("substring"), tmp_path).entails_batch(PAIRS)
    script = f"""
import json, sys
from rag.judges import CachedJudge, Judge
class Refuse(Judge):
    name = "scripted"
    def entails_batch(self, pairs):
        raise AssertionError("inner judge called")
pairs = {json.dumps(PAIRS)}
print(json.dumps(CachedJudge(Refuse(), sys.argv[1]).entails_batch([tuple(p) for p in pairs])))
"""
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == EXPECTED


def test_cache_tolerates_torn_last_line(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    first = CachedJudge(rule_judge("substring"), tmp_path)
    first.entails_batch(PAIRS[:2])
    with open(first.path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "abc", "verd')  # an interrupted write
    inner = rule_judge("substring")
    second = CachedJudge(inner, tmp_path)
    assert second.entails_batch(PAIRS) == EXPECTED
    assert inner.batches == [[PAIRS[2]]]  # the two good records were read
    # The record written after the torn line is itself readable.
    third_inner = rule_judge("substring")
    assert CachedJudge(third_inner, tmp_path).entails_batch(PAIRS) == EXPECTED
    assert third_inner.batches == []
    lines = first.path.read_text(encoding="utf-8").splitlines()
    assert lines[2] == '{"key": "abc", "verd' and len(lines) == 4


def test_cache_default_dir_under_rag_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rule_judge: type[RuleJudge]
) -> None:
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    judge = CachedJudge(rule_judge("substring"))
    judge.entails_batch(PAIRS[:1])
    assert judge.path.parent == tmp_path / "judge" and judge.path.is_file()
