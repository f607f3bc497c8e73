"""rag.evaluation.distributed: ``rag eval --engine ray`` on a local Ray cluster gives the same greedy
answers and the same score lines as a local run (and re-scoring on Ray works too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import needs_shared_data, rag, shared_file

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rag[distributed]')")

SAMPLE10 = shared_file("asqa", "asqa_alce_format_sample10.json")


def _by_key(path: Path) -> dict[tuple[str, str], dict]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["system"], r["id"]): r for r in records}


@needs_shared_data
def test_ray_eval_answers_and_scores_like_one_process(tmp_path: Path) -> None:
    common = [
        "eval",
        "--data",
        str(SAMPLE10),
        "--docs-from-file",
        "--limit",
        "4",
        "--generators",
        "smollm2-135m",
        "--no-baseline",
        "--judge",
        "llm:smollm2-135m",
        "--set",
        "attribution_judge=llm:smollm2-135m",
        "--set",
        "generation.max_tokens=60",
    ]
    local = rag(*common, "--run", str(tmp_path / "local"), cwd=tmp_path, timeout=600)
    assert local.returncode == 0, local.stderr
    # answered on Ray, then half the scores dropped and re-scored on Ray: resuming works too
    dist = rag(*common, "--engine", "ray", "--workers", "2", "--run", str(tmp_path / "ray"), cwd=tmp_path, timeout=600)
    assert dist.returncode == 0, dist.stderr
    a, b = _by_key(tmp_path / "local" / "outputs.jsonl"), _by_key(tmp_path / "ray" / "outputs.jsonl")
    assert a.keys() == b.keys() and len(a) == 4
    for key in a:
        assert a[key]["output"] == b[key]["output"], key
        assert [p["id"] for p in a[key]["passages"]] == [p["id"] for p in b[key]["passages"]]
    scores = sorted((tmp_path / "ray").glob("scores-*.jsonl"))
    assert [p.name for p in scores] == [p.name for p in sorted((tmp_path / "local").glob("scores-*.jsonl"))]
    lines = scores[0].read_text(encoding="utf-8").splitlines()
    scores[0].write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    again = rag("eval", "score", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2", cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr
    sa, sb = _by_key(tmp_path / "local" / scores[0].name), _by_key(scores[0])
    assert sa == sb
