"""rag.judges.verifier: the trained cross-encoder as shipped (safetensors + card), its
probabilities on hand-made pairs, the threshold from its card, and training end to end."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.judges.load import load_judge
from rag.judges.verifier import ADAPTER_FILE, CARD_FILE, VERIFIER_DIR, Card, VerifierJudge, VerifierModel

REPO = Path(__file__).resolve().parents[2]
CURIE = (
    "Title: Marie Curie\nMarie Curie was a Polish and naturalised-French physicist and chemist who conducted "
    "pioneering research on radioactivity. With Pierre Curie she discovered two far more active elements, "
    "polonium and radium, in 1898. She was the first woman to win a Nobel Prize."
)
BECQUEREL = (
    "Title: Henri Becquerel\nHenri Becquerel was a French physicist. In 1896, while investigating "
    "phosphorescence in uranium salts, he discovered that uranium emits rays that pass through black paper: "
    "radioactivity."
)


@pytest.fixture(scope="module")
def judge() -> VerifierJudge:
    return VerifierJudge(device="cpu")


def test_ships_as_safetensors_with_a_card() -> None:
    """The trained part is safetensors (an 8-byte header length, then a JSON header: no pickle)
    and the card names its threshold, calibration and how it was trained."""
    raw = (VERIFIER_DIR / ADAPTER_FILE).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    assert "head.weight" in header and all(
        k.endswith(("__down", "__up")) or k.startswith(("head", "__")) for k in header
    )
    assert b"\x80\x04" not in raw[:2] and not raw.startswith(b"PK")  # neither a pickle nor a torch zip
    card = Card.read(VERIFIER_DIR / CARD_FILE)
    assert 0.0 < card.threshold < 1.0 and card.temperature > 0
    for key in ("data", "command", "seed", "minutes", "metrics"):
        assert key in card.record, key


def test_threshold_comes_from_the_card(judge: VerifierJudge) -> None:
    card = json.loads((VERIFIER_DIR / CARD_FILE).read_text(encoding="utf-8"))
    assert judge.threshold == card["threshold"]
    assert VerifierJudge(threshold=0.9).threshold == 0.9


def test_hand_made_pairs(judge: VerifierJudge) -> None:
    """Supported (word for word, and reworded), contradicted (a year, a name changed, negated) and
    unrelated sentences: the supported above the threshold, the others below."""
    supported = [
        (CURIE, "Marie Curie discovered polonium and radium in 1898."),
        (CURIE, "With Pierre Curie she discovered two far more active elements, polonium and radium, in 1898."),
        (BECQUEREL, "Henri Becquerel discovered in 1896 that uranium emits rays."),
    ]
    contradicted = [
        (CURIE, "Marie Curie discovered polonium and radium in 1912."),
        (BECQUEREL, "Henri Becquerel discovered in 1896 that thorium emits rays."),
        (CURIE, "Marie Curie was not a physicist."),
    ]
    unrelated = [
        (BECQUEREL, "Marie Curie discovered polonium and radium in 1898."),
        (CURIE, "The Eiffel Tower was completed in 1889 for the World's Fair."),
    ]
    probs = judge.probabilities(supported + contradicted + unrelated)
    assert all(0.0 <= p <= 1.0 for p in probs)
    yes, no = probs[: len(supported)], probs[len(supported) :]
    assert min(yes) >= judge.threshold, probs
    assert max(no) < judge.threshold, probs
    assert judge.entails_batch(supported) == [True] * len(supported)


def test_by_name_everywhere_a_judge_is() -> None:
    judge = load_judge("verifier", cache=False)
    assert isinstance(judge, VerifierJudge) and judge.name == "verifier"
    assert load_judge("verifier").cache_id.startswith("verifier:")
    with pytest.raises(RagError, match="unknown judge"):
        load_judge("verifier:other", cache=False)


def test_weights_of_another_shape_are_refused(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    save_file({"head.weight": torch.zeros(1, 3)}, str(tmp_path / ADAPTER_FILE))
    model = VerifierModel(device="cpu")
    with pytest.raises(RagError, match="do not fit"):
        model.load_trained(tmp_path / ADAPTER_FILE)


def test_missing_weights_or_card_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="adapter.safetensors is not in"):
        VerifierJudge(tmp_path)
    (tmp_path / ADAPTER_FILE).write_bytes((VERIFIER_DIR / ADAPTER_FILE).read_bytes())
    with pytest.raises(RagError, match="card.json is not in"):
        VerifierJudge(tmp_path)
    (tmp_path / CARD_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(RagError, match="cannot read the verifier's card"):
        VerifierJudge(tmp_path)


@pytest.mark.slow
def test_training_end_to_end_on_a_tiny_set(tmp_path: Path) -> None:
    """experiments/verifier/train.py on 24 pairs: it writes weights that load and a card with
    its metrics, and a second run resumes from the saved step instead of starting over."""
    data = tmp_path / "data"
    data.mkdir()
    rows = []
    for i in range(12):
        rows.append(
            {
                "premise": f"Title: T{i}\nThe bridge {i} opened in {1900 + i}.",
                "hypothesis": f"Bridge {i} opened in {1900 + i}.",
                "label": True,
                "kind": "annotation",
            }
        )
        rows.append(
            {
                "premise": f"Title: T{i}\nThe bridge {i} opened in {1900 + i}.",
                "hypothesis": f"Bridge {i} opened in {1950 + i}.",
                "label": False,
                "kind": "perturbed",
            }
        )
    for name in ("train", "valid"):
        (data / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out, work = tmp_path / "out", tmp_path / "work"
    cmd = [
        sys.executable,
        str(REPO / "experiments" / "verifier" / "train.py"),
        "--data",
        str(data),
        "--out",
        str(out),
        "--work",
        str(work),
        "--epochs",
        "1",
        "--batch",
        "8",
        "--save-every",
        "1",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    card = Card.read(out / CARD_FILE)
    assert card.record["steps"] == 3 and "judge_pairs_test" in card.record["metrics"]
    VerifierModel(card.shape).load_trained(out / ADAPTER_FILE)
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "resumed at step 3" in again.stdout
