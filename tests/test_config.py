"""rag.config: ``PipelineConfig`` saved and read back, changed by name (``--set``), retired settings."""

from __future__ import annotations

import json
import re
from dataclasses import fields

import pytest
from conftest import run_doctests
from typer.testing import CliRunner

from rag.citing.attribution import AttributionConfig
from rag.cli import app
from rag.config import PipelineConfig, setting_names
from rag.errors import RagError
from rag.evidence import EvidenceConfig
from rag.generation import GenerationConfig
from rag.retrieval import RetrievalConfig


def test_settings_by_name_take_the_fields_types() -> None:
    config = PipelineConfig().with_settings(
        [
            "k=8",
            "prompt=quote",
            "retrieval.fusion=weighted",
            "retrieval.weights=1,3",
            "evidence.reader=false",
            "evidence.min_probability=0.1",
            "hide_unsupported=no",
        ]
    )
    assert config.k == 8 and config.prompt == "quote"
    assert config.retrieval.fusion == "weighted" and config.retrieval.weights == (1.0, 3.0)
    assert config.evidence.reader is False and config.evidence.min_probability == 0.1
    assert config.hide_unsupported is False
    assert PipelineConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("colour=blue", "unknown setting 'colour'"),
        ("retrieval.colour=blue", "unknown setting 'retrieval.colour'"),
        ("retrieval=hybrid", "unknown setting 'retrieval'"),
        ("k", "--set takes key=value"),
        ("=3", "--set takes key=value"),
        ("k=many", "--set k='many': expected a int"),
        ("evidence.reader=maybe", "expected a bool"),
        ("k=0", "k must be between 1 and 100"),
        ("prompt=poem", "unknown prompt 'poem'"),
    ],
)
def test_a_bad_setting_is_one_clear_error(item: str, message: str) -> None:
    with pytest.raises(RagError, match=message.replace("(", r"\(").replace("[", r"\[")):
        PipelineConfig().with_settings([item])


def test_setting_names_cover_nested_fields() -> None:
    names = setting_names()
    assert "k" in names and "retrieval.fusion" in names and "evidence.reader" in names
    assert "retrieval" not in names


def test_the_cli_refuses_an_unknown_setting_in_one_line(tmp_path) -> None:
    result = CliRunner().invoke(app, ["ask", "Who?", "--index", str(tmp_path / "none"), "--set", "colour=blue"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown setting 'colour'" in lines[0]
    assert "Traceback" not in result.output


def test_retired_settings_are_read_only_at_the_value_this_version_behaves_as() -> None:
    old = PipelineConfig().to_dict() | {"constrain_citations": False, "samples": 1, "sample_temperature": 0.7}
    old["evidence"] = old["evidence"] | {"scorer": "learned", "keep_ratio": 0.4, "rank_weight": 1.2}
    assert PipelineConfig.from_dict(old) == PipelineConfig()
    with pytest.raises(RagError, match="samples=4 is no longer supported"):
        PipelineConfig.from_dict(old | {"samples": 4})
    with pytest.raises(RagError, match="evidence.scorer='hand' is no longer supported"):
        PipelineConfig.from_dict(old | {"evidence": old["evidence"] | {"scorer": "hand"}})
    with pytest.raises(RagError, match="unknown pipeline setting"):
        PipelineConfig.from_dict({"colour": "blue"})


# ---------------------------------------------------------------- as JSON


CHANGED = PipelineConfig(
    k=7,
    retrieval=RetrievalConfig(
        mode="dense", fusion="weighted", rrf_k=60, weights=(2.0, 0.5), norm="zscore", bm25_depth=7, dense_depth=9
    ),
    generation=GenerationConfig(
        max_tokens=64,
        temperature=0.3,
        top_p=0.9,
        seed=4,
        stop=("\n\n", "Question:"),
        grammar='root ::= "x"',
        repeat_penalty=1.1,
    ),
    prompt="alce",
    cite="model",
    hide_unsupported=False,
    quote_fallback=False,
    attribution_judge="llm:qwen2.5-1.5b",
    attribution=AttributionConfig(candidates=4, max_set=3, quotes=False),
    evidence=EvidenceConfig(
        max_sentences=6,
        per_passage=2,
        min_words=3,
        lexical_weight=0.7,
        type_weight=0.2,
        diversity=0.4,
        duplicate_overlap=0.8,
        min_relevance=0.25,
        judge_on_evidence=True,
        quote_words=50,
        min_probability=0.1,
        prompt_sentences=3,
        reader=False,
        reader_sentences=5,
        code_bonus=1.0,
    ),
)


def _differences(a: object, b: object) -> list[str]:
    """Names of the (nested) dataclass fields that differ between ``a`` and ``b``."""
    out = []
    for f in fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if hasattr(x, "__dataclass_fields__"):
            out += [f"{f.name}.{n}" for n in _differences(x, y)]
        elif x != y:
            out.append(f.name)
    return out


def test_changed_config_changes_every_setting() -> None:
    # so that the round trip below covers every field, nested ones included
    default = PipelineConfig()
    assert len(_differences(CHANGED, default)) == sum(
        len(fields(getattr(default, f.name))) if hasattr(getattr(default, f.name), "__dataclass_fields__") else 1
        for f in fields(default)
    )


@pytest.mark.parametrize("config", [PipelineConfig(), CHANGED], ids=["default", "changed"])
def test_config_json_round_trip(config: PipelineConfig) -> None:
    data = json.loads(json.dumps(config.to_dict()))
    back = PipelineConfig.from_dict(data)
    assert back == config
    assert isinstance(back.retrieval.weights, tuple) and isinstance(back.generation.stop, tuple)


def test_config_to_dict_is_plain_json() -> None:
    d = CHANGED.to_dict()
    assert d["retrieval"]["weights"] == [2.0, 0.5] and d["retrieval"]["rrf_k"] == 60
    assert d["generation"]["stop"] == ["\n\n", "Question:"] and d["generation"]["max_tokens"] == 64
    assert d["attribution"] == {"candidates": 4, "max_set": 3, "quotes": False}
    assert (d["k"], d["cite"]) == (7, "model")
    assert not {"constrain_citations", "samples", "sample_temperature"} & set(d)  # retired: not written
    assert not {"scorer", "keep_ratio", "rank_weight"} & set(d["evidence"])


def test_config_missing_fields_take_their_defaults() -> None:
    assert PipelineConfig.from_dict({}) == PipelineConfig()
    assert PipelineConfig.from_dict({"k": 3, "retrieval": {"rrf_k": 60}}) == PipelineConfig(
        k=3, retrieval=RetrievalConfig(rrf_k=60)
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"k": 5, "temperature": 0.3}, r"unknown pipeline setting\(s\) temperature;"),
        ({"retrieval": {"rrf_k": 60, "depth": 3}}, r"unknown retrieval setting\(s\) depth;"),
        ({"generation": {"max_token": 10}}, r"unknown generation setting\(s\) max_token;"),
        ({"attribution": {"candidate": 2}}, r"unknown attribution setting\(s\) candidate;"),
    ],
)
def test_config_unknown_setting_is_an_error(data: dict, message: str) -> None:
    with pytest.raises(RagError, match=message):
        PipelineConfig.from_dict(data)


def test_config_checks_the_citation_mode() -> None:
    with pytest.raises(ValueError, match="citation mode"):
        PipelineConfig(cite="magic")


# ---------------------------------------------------------------- retired settings


@pytest.mark.parametrize(
    "old",
    [
        {"constrain_citations": False},
        {"samples": 1},
        {"sample_temperature": 0.7},
        {"sample_temperature": 1.3},  # any value: with one sample it was never used
        {"evidence": {"scorer": "learned"}},
        {"evidence": {"keep_ratio": 0.4, "rank_weight": 1.2}},  # the hand scorer's: unused by the learned one
        {"evidence": {"keep_ratio": 0.9, "rank_weight": 0.0, "quote_words": 40}},
    ],
)
def test_a_retired_setting_at_the_value_this_version_behaves_as_is_read(old: dict) -> None:
    expected = (
        PipelineConfig(evidence=EvidenceConfig(quote_words=40)) if "quote_words" in str(old) else PipelineConfig()
    )
    assert PipelineConfig.from_dict(old) == expected


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ({"constrain_citations": True}, "constrain_citations=True"),
        ({"samples": 4}, "samples=4"),
        ({"samples": 0}, "samples=0"),
        ({"evidence": {"scorer": "hand"}}, "evidence.scorer='hand'"),
    ],
)
def test_a_retired_setting_at_another_value_is_refused(old: dict, name: str) -> None:
    with pytest.raises(RagError, match=re.escape(f"the setting {name} is no longer supported")):
        PipelineConfig.from_dict(old)


@pytest.mark.parametrize("key", ["constrain_citations", "samples", "sample_temperature", "evidence.scorer"])
def test_a_retired_setting_cannot_be_set_by_name(key: str) -> None:
    with pytest.raises(RagError, match="unknown setting"):
        PipelineConfig().with_settings([f"{key}=1"])
    assert key not in setting_names()


def test_the_module_examples_hold() -> None:

    import rag.config

    run_doctests(rag.config)
