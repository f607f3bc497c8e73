"""``PipelineConfig``: saved and read back, changed by name (``--set``), retired settings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import PipelineConfig, setting_names
from rag.errors import RagError


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
