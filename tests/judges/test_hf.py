"""rag.judges.hf: the NLI and TRUE judges' label lookup and batching (a scripted subclass, no model)."""

from __future__ import annotations

import pytest

from rag.judges.hf import _entailment_index


def test_entailment_label_lookup() -> None:
    assert _entailment_index({0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}) == 2
    assert _entailment_index({"0": "entailment", "1": "not_entailment"}) == 0
    with pytest.raises(ValueError, match="entailment"):
        _entailment_index({0: "LABEL_0", 1: "LABEL_1"})


def test_hugging_face_judges_batch_in_order_and_load_once() -> None:
    from rag.judges.hf import _HuggingFaceJudge

    class Scripted(_HuggingFaceJudge):
        loads = 0
        batches: list[int] = []

        def _load(self) -> None:
            Scripted.loads += 1
            self._net = object()

        def _judge(self, batch):  # noqa: ANN001, ANN202
            Scripted.batches.append(len(batch))
            return [h in p for p, h in batch]

    judge = Scripted("m", device="cpu", batch_size=2, name="scripted", official=False)
    assert judge.entails_batch([]) == []
    pairs = [("abc", "a"), ("abc", "z"), ("xyz", "y"), ("xyz", "q"), ("k", "k")]
    assert judge.entails_batch(pairs) == [True, False, True, False, True]
    assert judge.entails_batch(pairs[:1]) == [True]
    assert Scripted.loads == 1 and Scripted.batches == [2, 2, 1, 1]
