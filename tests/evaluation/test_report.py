"""Reports: the markdown table rows, the comparability line, the files, several runs side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.report import (
    build_summary,
    comparability_note,
    metric_columns,
    report_runs,
    summary_markdown,
    write_report,
)


def _summary(run: str = "demo", official: bool = False) -> dict:
    systems = {
        "rag/qwen2.5-0.5b": {
            "kind": "rag",
            "generator": "qwen2.5-0.5b",
            "params": "0.5B",
            "file_size": 491_400_064,
            "n_questions": 30,
            "seconds_per_question": 11.04,
            "metrics": {
                "str_em": 31.25,
                "str_hit": 6.67,
                "rougeLsum": 33.333,
                "length": 52.5,
                "citation_rec": 12.0,
                "citation_prec": 15.55,
                "faithfulness": 40.0,
            },
        },
        "closed-book/qwen2.5-1.5b": {
            "kind": "closed-book",
            "generator": "qwen2.5-1.5b",
            "params": "1.5B",
            "file_size": 1_117_320_768,
            "n_questions": 30,
            "seconds_per_question": 4.5,
            "metrics": {"str_em": 20.0, "str_hit": 3.33, "rougeLsum": 30.04, "length": 41.0},
        },
    }
    judge = {"name": "llm:true" if official else "llm:qwen2.5-1.5b", "official": official}
    corpus = {"kind": "index", "index": "asqa", "passage_count": 10537}
    return build_summary(run=run, systems=systems, judge=judge, corpus=corpus, k=5)


def test_table_rows_are_exact() -> None:
    md = summary_markdown(_summary())
    lines = md.splitlines()
    header = (
        "| system | model | params | file | n | EM rec | EM hit | ROUGE-Lsum | cit rec | cit prec | "
        "faithful | length (words) | s/question |"
    )
    assert header in lines
    assert (
        "| rag/qwen2.5-0.5b | qwen2.5-0.5b | 0.5B | 491 MB | 30 "
        "| 31.2 | 6.7 | 33.3 | 12.0 | 15.6 | 40.0 | 52.5 | 11.0 |" in lines
    )
    assert (
        "| closed-book/qwen2.5-1.5b | qwen2.5-1.5b | 1.5B | 1.12 GB | 30 "
        "| 20.0 | 3.3 | 30.0 | – | – | – | 41.0 | 4.5 |" in lines
    )
    assert "Judge: `llm:qwen2.5-1.5b` (not ALCE-official). k = 5. Corpus: index `asqa` (10,537 passages)." in lines
    note = [line for line in lines if line.startswith("Not comparable")]
    assert note == [
        "Not comparable with ALCE's published numbers: our corpus is 10,537 passages vs ALCE's 21M-passage "
        "Wikipedia; our judge is llm:qwen2.5-1.5b, not TRUE-11B (citation and faithfulness scores are not "
        "ALCE-official)."
    ]


def test_official_judge_and_docs_from_file_note() -> None:
    note = comparability_note({"name": "true", "official": True}, {"kind": "docs-from-file", "data": "x.json"})
    assert "TRUE-11B" not in note and "docs" in note
    assert "(ALCE-official)" in summary_markdown(_summary(official=True))


def test_metric_columns_order() -> None:
    systems = {"a": {"metrics": {"zeta": 1.0, "length": 3.0, "str_em": 2.0, "citation_prec": 1.0}}}
    assert metric_columns(systems) == ["str_em", "citation_prec", "length", "zeta"]


def test_write_report_files(tmp_path: Path) -> None:
    paths = write_report(_summary(), tmp_path / "out")
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["systems"]["rag/qwen2.5-0.5b"]["params"] == "0.5B"
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| rag/qwen2.5-0.5b |" in paths["md"].read_text(encoding="utf-8")


def test_report_runs_side_by_side(tmp_path: Path) -> None:
    write_report(_summary("run-a"), tmp_path / "run-a")
    write_report(_summary("run-b"), tmp_path / "run-b")
    paths = report_runs([tmp_path / "run-a", tmp_path / "run-b"], tmp_path / "cmp")
    md = paths["md"].read_text(encoding="utf-8")
    assert "| run-a:rag/qwen2.5-0.5b |" in md and "| run-b:closed-book/qwen2.5-1.5b |" in md
    assert md.count("| run-") == 4
    with pytest.raises(FileNotFoundError, match="rag eval score"):
        report_runs([tmp_path / "nothing"], tmp_path / "x")
