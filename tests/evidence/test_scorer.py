"""rag.evidence.scorer: the learned scorer applied to the features, the reader's part, which
candidates may be chosen, and the weights read from weights.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import run_doctests

from rag.errors import RagError
from rag.evidence import (
    FEATURE_NAMES,
    WEIGHTS_FILE,
    learned_eligible,
    learned_scores,
    load_weights,
    read_weights,
    with_reader,
)

from .cases import (
    features,
)

if TYPE_CHECKING:
    from conftest import BowEmbedder


@pytest.fixture
def embed(bow_embedder: type[BowEmbedder]) -> BowEmbedder:
    return bow_embedder()


def test_the_learned_weights_cover_every_feature() -> None:
    assert set(load_weights().learned) == set(FEATURE_NAMES)


def test_learned_scores_are_the_linear_model(embed: BowEmbedder) -> None:
    x = features(embed)
    w = load_weights()
    by_hand = [w.bias + sum(w.learned[n] * v for n, v in zip(FEATURE_NAMES, row, strict=True)) for row in x]
    assert learned_scores(x) == pytest.approx(by_hand)


def test_learned_eligible_keeps_whole_sentences_above_the_floor() -> None:
    floor = math.log(0.05 / 0.95)
    scores = [floor + 0.01, floor - 0.01, 3.0, floor + 1.0]
    assert learned_eligible(scores, [True, True, False, True], 0.05) == [True, False, False, True]
    # none above the floor: the best whole one, so an answered question keeps evidence
    assert learned_eligible([-9.0, -7.0, 5.0], [True, True, False], 0.05) == [False, True, False]
    assert learned_eligible([-9.0, -7.0], [True, True], 0.0) == [True, True]
    assert learned_eligible([1.0], [False], 0.05) == [False]


def test_with_reader_is_the_fitted_combination() -> None:
    w = load_weights().reader
    assert with_reader([2.0, -1.0], [True, False]) == pytest.approx(
        [w["scale"] * 2.0 + w["holds"] + w["bias"], -w["scale"] + w["bias"]]
    )
    assert w["holds"] > 0  # holding the reader's answer makes a sentence more likely evidence


# ---------------------------------------------------------------- the weights file


def _weights_file(tmp_path: Path, **changes: object) -> Path:
    """A copy of the packaged weights.json with ``changes`` made to its parts."""
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    for part, value in changes.items():
        data[part] = value
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_packaged_weights_are_read_once_with_their_provenance() -> None:
    weights = load_weights()
    assert load_weights() is weights  # read once
    assert read_weights(WEIGHTS_FILE) == weights
    assert set(weights.reader) == {"scale", "holds", "bias"}
    assert set(weights.provenance) == {"learned", "reader"}
    assert all(weights.provenance[part] for part in ("learned", "reader"))  # where each part came from


def test_weights_read_from_another_file(tmp_path: Path) -> None:
    learned = {name: float(i) for i, name in enumerate(FEATURE_NAMES)}
    path = _weights_file(
        tmp_path,
        learned={"weights": learned, "bias": -2.5},
        reader={"weights": {"scale": 1.0, "holds": 0.5, "bias": 0.0}},
    )
    weights = read_weights(path)
    assert (dict(weights.learned), weights.bias) == (learned, -2.5)
    assert dict(weights.reader) == {"scale": 1.0, "holds": 0.5, "bias": 0.0}
    assert dict(weights.provenance) == {"learned": {}, "reader": {}}  # none recorded


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learned": {"weights": {"cosine": 1.0}, "bias": 0.0}}, "do not match the features"),
        ({"reader": {"weights": {"scale": 1.0, "holds": 1.0}}}, "reader weights must be scale, holds, bias"),
        ({"learned": {"weights": {}}}, "cannot read the evidence scorer's weights"),  # no bias
        ({"reader": "not an object"}, "cannot read the evidence scorer's weights"),
    ],
)
def test_bad_weights_are_one_clear_error(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    with pytest.raises(RagError, match=message):
        read_weights(_weights_file(tmp_path, **changes))


def test_a_missing_or_broken_weights_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="cannot read"):
        read_weights(tmp_path / "none.json")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RagError, match="cannot read"):
        read_weights(tmp_path / "broken.json")


def test_the_module_examples_hold() -> None:
    import rag.evidence.scorer

    run_doctests(rag.evidence.scorer)
