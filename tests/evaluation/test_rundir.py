"""rag.evaluation.rundir: config.json read back (this layout and the older flat one), resume
checks setting by setting, and the git state recorded with a run."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO

from rag.citing.attribution import AttributionConfig
from rag.errors import RagError
from rag.evaluation.data import AsqaItem
from rag.evaluation.rundir import (
    CONFIG,
    RunConfig,
    SystemSpec,
    answer_record,
    check_resume,
    config_from_dict,
    git_state,
    read_outputs,
    write_config,
)
from rag.generation import GenerationConfig
from rag.pipeline import NOT_ANSWERED, PipelineConfig
from rag.retrieval import RetrievalConfig
from rag.types import Answer, Passage, ScoredPassage

HEADLINE = REPO / "results" / "headline-best" / "config.json"
# The pipeline fields older runs recorded flat in "run"; this version no longer has the two
# retired ones, which such a run must hold at the value this version behaves as.
RETIRED = {"constrain_citations": False, "samples": 1}
FLAT_PIPELINE = (
    "k",
    "prompt",
    "constrain_citations",
    "cite",
    "samples",
    "hide_unsupported",
    "quote_fallback",
    "attribution_judge",
)

PIPELINE = PipelineConfig(
    k=3,
    retrieval=RetrievalConfig(rrf_k=60, weights=(1.0, 1.0), bm25_depth=10),
    generation=GenerationConfig(max_tokens=120, stop=("\n\n",)),
    prompt="default",
    cite="model",
    hide_unsupported=False,
    quote_fallback=False,
    attribution=AttributionConfig(candidates=4, max_set=1),
)
RUN = RunConfig(
    data="/data/asqa_dev.json",
    docs_from_file=True,
    limit=20,
    subset="pooled300",
    seed=7,
    index=None,
    pipeline=PIPELINE,
    generators=("fake-a", "fake-b"),  # no packaged model: write_config looks nothing up
    closed_book=True,
    baseline=None,
    judge="llm:qwen2.5-0.5b",
)


@pytest.mark.parametrize("config", [RunConfig(data="/data/asqa_dev.json"), RUN], ids=["default", "changed"])
def test_run_config_json_round_trip(config: RunConfig) -> None:
    back = config_from_dict(json.loads(json.dumps(config.to_dict())))
    assert back == config
    assert back.generators == config.generators and isinstance(back.generators, tuple)


def test_run_config_records_the_whole_pipeline() -> None:
    d = RUN.to_dict()
    assert d["pipeline"]["retrieval"]["rrf_k"] == 60
    assert d["pipeline"]["generation"] == {
        "max_tokens": 120,
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": 0,
        "stop": ["\n\n"],
        "grammar": None,
        "repeat_penalty": 1.0,
    }
    assert d["pipeline"]["attribution"] == {"candidates": 4, "max_set": 1, "quotes": True}
    assert not set(FLAT_PIPELINE) & set(d)  # the pipeline is nested, not flat


def test_old_flat_layout_of_a_committed_run() -> None:
    run = json.loads(HEADLINE.read_text(encoding="utf-8"))["run"]
    assert "pipeline" not in run  # recorded before config.json held the whole pipeline
    config = config_from_dict(run)
    for key in FLAT_PIPELINE:
        if key in RETIRED:
            assert run[key] == RETIRED[key] and not hasattr(config.pipeline, key), key
        else:
            assert getattr(config.pipeline, key) == run[key], key
    # the values of that run, by hand
    assert (config.pipeline.k, config.pipeline.prompt, config.pipeline.cite) == (5, "quote", "posthoc")
    assert (config.pipeline.hide_unsupported, config.pipeline.quote_fallback) == (True, True)
    assert config.pipeline.attribution_judge == "llm:qwen2.5-0.5b"
    # the settings it did not record are this version's defaults
    default = PipelineConfig()
    assert (config.pipeline.retrieval, config.pipeline.generation) == (default.retrieval, default.generation)
    assert config.pipeline.attribution == default.attribution
    assert (config.limit, config.subset, config.index, config.generators, config.baseline) == (
        120,
        "pooled300",
        "asqa",
        ("qwen2.5-0.5b",),
        None,
    )


LEGACY = {
    "benchmark": "asqa",
    "data": "/data/asqa_dev.json",
    "docs_from_file": False,
    "limit": 20,
    "subset": "pooled300",
    "seed": None,
    "index": "asqa",
    "k": 5,
    "prompt": "default",
    "constrain_citations": False,
    "generators": ["qwen2.5-0.5b", "qwen2.5-1.5b"],
    "closed_book": False,
    "baseline": None,
    "judge": "llm",
}


def test_legacy_run_without_citing_levers_used_the_model_citations() -> None:
    config = config_from_dict(LEGACY)
    p = config.pipeline
    # made before the citing levers existed: the generator's own citations, nothing hidden
    assert (p.cite, p.hide_unsupported, p.quote_fallback) == ("model", False, False)
    assert (p.k, p.prompt) == (5, "default")
    assert config.generators == ("qwen2.5-0.5b", "qwen2.5-1.5b")
    # a run made when hiding existed but the quote fallback did not: no fallback
    later = config_from_dict(LEGACY | {"cite": "posthoc", "hide_unsupported": True})
    assert (later.pipeline.cite, later.pipeline.hide_unsupported, later.pipeline.quote_fallback) == (
        "posthoc",
        True,
        False,
    )


@pytest.mark.parametrize(("key", "value"), [("constrain_citations", True), ("samples", 3)])
def test_a_legacy_run_with_a_retired_lever_on_is_refused(key: str, value: object) -> None:
    """A run made with a lever this version no longer has cannot be reproduced: refused, named."""
    with pytest.raises(RagError, match=key):
        config_from_dict(LEGACY | {key: value})


# ---------------------------------------------------------------- resume


def _written(tmp_path: Path, config: RunConfig = RUN) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_config(run_dir, config, [], {})
    assert (run_dir / CONFIG).is_file()
    return run_dir


def test_resume_with_the_same_config_passes(tmp_path: Path) -> None:
    run_dir = _written(tmp_path)
    check_resume(run_dir, RUN)
    check_resume(run_dir, config_from_dict(json.loads((run_dir / CONFIG).read_text(encoding="utf-8"))["run"]))
    # settings that do not decide the answers may change: more questions, other scorers
    check_resume(run_dir, replace(RUN, limit=40, judge="none", generators=("fake-c",)))


def test_resume_of_a_new_run_passes(tmp_path: Path) -> None:
    check_resume(tmp_path, RUN)  # no config.json yet


def _changed(config: RunConfig, **nested: dict[str, object]) -> RunConfig:
    pipe = config.pipeline
    parts = {name: replace(getattr(pipe, name), **values) for name, values in nested.items()}
    return replace(config, pipeline=replace(pipe, **parts))


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        (_changed(RUN, retrieval={"rrf_k": 5}), "retrieval.rrf_k=60, now 5"),
        (_changed(RUN, retrieval={"weights": (1.0, 3.0)}), "retrieval.weights=[1.0, 1.0], now [1.0, 3.0]"),
        (_changed(RUN, generation={"max_tokens": 300}), "generation.max_tokens=120, now 300"),
        (_changed(RUN, generation={"stop": ()}), "generation.stop=['\\n\\n'], now []"),
        (_changed(RUN, attribution={"candidates": 3}), "attribution.candidates=4, now 3"),
        (replace(RUN, pipeline=replace(PIPELINE, k=5)), "with k=3, now 5"),
        (replace(RUN, pipeline=replace(PIPELINE, cite="posthoc")), "cite='model', now 'posthoc'"),
        (replace(RUN, data="/data/other.json"), "data='/data/asqa_dev.json', now '/data/other.json'"),
        (replace(RUN, seed=8), "seed=7, now 8"),
    ],
)
def test_resume_names_the_setting_that_differs(tmp_path: Path, changed: RunConfig, message: str) -> None:
    run_dir = _written(tmp_path)
    with pytest.raises(RagError) as err:
        check_resume(run_dir, changed)
    assert message in str(err.value)
    assert str(err.value).startswith(f"cannot resume {run_dir}: it was run with ")


def test_resume_of_an_old_flat_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "old"
    run_dir.mkdir()
    (run_dir / CONFIG).write_text(json.dumps({"run": LEGACY}), encoding="utf-8")
    same = config_from_dict(LEGACY)
    check_resume(run_dir, same)
    with pytest.raises(RagError, match=r"cite='model', now 'posthoc'"):
        check_resume(run_dir, replace(same, pipeline=replace(same.pipeline, cite="posthoc")))
    with pytest.raises(RagError, match=r"retrieval\.rrf_k=5, now 60"):
        check_resume(run_dir, _changed(same, retrieval={"rrf_k": 60}))


# ---------------------------------------------------------------- git state


def _git(cwd: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit of one file, configured only locally."""
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "config", "user.name", "Test")
    _git(root, "config", "user.email", "test@example.com")
    _git(root, "config", "commit.gpgsign", "false")
    (root / "a.txt").write_text("one\n", encoding="utf-8")
    _git(root, "add", "a.txt")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_git_state_of_a_clean_checkout(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    assert len(head) == 40
    assert git_state(repo) == {"commit": head, "diff_sha256": None}
    (repo / "untracked.txt").write_text("new\n", encoding="utf-8")
    assert git_state(repo) == {"commit": head, "diff_sha256": None}  # untracked files are not a change


def test_git_state_of_a_dirty_checkout(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    (repo / "a.txt").write_text("one\ntwo\n", encoding="utf-8")
    diff = _git(repo, "diff", "HEAD", "--no-color", "--no-ext-diff")
    assert b"+two" in diff
    state = git_state(repo)
    assert state == {"commit": head + "+dirty", "diff_sha256": hashlib.sha256(diff).hexdigest()}
    # another change, another hash
    (repo / "a.txt").write_text("one\nthree\n", encoding="utf-8")
    assert git_state(repo)["diff_sha256"] not in (None, state["diff_sha256"])


def test_git_state_outside_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_DIR", raising=False)
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert git_state(outside) == {"commit": None, "diff_sha256": None}


# ---------------------------------------------------------------- systems, self-grading, outputs

WHO = "Who discovered radium?"
OFF_TOPIC = [
    Passage("banana", "Bananas grow well in warm tropical climates.", "Banana", "fruit.txt"),
    Passage("tower", "The Eiffel Tower opened to visitors in 1889.", "Eiffel Tower"),
]


def test_systems_of_the_2x2() -> None:
    cfg = RunConfig(generators=("qwen2.5-0.5b", "qwen2.5-1.5b"), closed_book=True)
    assert [s.name for s in cfg.systems()] == [
        "rag/qwen2.5-0.5b",
        "closed-book/qwen2.5-0.5b",
        "rag/qwen2.5-1.5b",
        "closed-book/qwen2.5-1.5b",
    ]
    cfg = RunConfig(generators=("qwen2.5-0.5b",))
    assert [s.name for s in cfg.systems()] == ["rag/qwen2.5-0.5b", "closed-book/qwen2.5-1.5b"]
    with pytest.raises(ValueError, match="benchmark"):
        RunConfig(benchmark="eli5")


def test_self_graded_when_the_attribution_judge_scores() -> None:
    def run(**pipe: object) -> RunConfig:
        return RunConfig(pipeline=PipelineConfig(**pipe))  # type: ignore[arg-type]

    assert not run(cite="posthoc").self_graded()  # 0.5B attributes, 1.5B scores
    assert run(cite="posthoc", attribution_judge="llm:qwen2.5-1.5b").self_graded()
    no_levers = {"cite": "model", "hide_unsupported": False}
    assert not run(attribution_judge="llm", **no_levers).self_graded()  # nothing asks the attribution judge
    assert run(attribution_judge="llm").self_graded()  # the defaults ask it


def test_read_outputs_rejects_a_corrupt_middle_line(tmp_path: Path) -> None:
    p = tmp_path / "outputs.jsonl"
    p.write_text('{"a": 1}\nnot json\n{"b": 2}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_outputs(p)


def test_answer_record_of_an_unanswered_answer() -> None:
    item = AsqaItem("q1", WHO, (), ())
    system = SystemSpec("rag", "scripted")
    given = tuple(ScoredPassage(p, 0.5 - i / 10, i + 1) for i, p in enumerate(OFF_TOPIC))
    unanswered = Answer(WHO, NOT_ANSWERED, (), given, "scripted", {"total": 0.25}, answered=False)
    record = answer_record(item, system, unanswered)
    assert (record["output"], record["answered"]) == ("", False)
    assert [p["id"] for p in record["passages"]] == ["banana", "tower"]
    answered = Answer(WHO, "Radium was discovered by the Curies [1].", (), (), "scripted")
    record = answer_record(item, system, answered)
    assert (record["output"], record["answered"]) == ("Radium was discovered by the Curies [1].", True)
