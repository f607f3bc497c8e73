"""The evidence stage: the sentences of the retrieved passages that bear on the question.

Contract: :func:`select_evidence` (question, passages best-retrieved first) returns an
:class:`EvidenceSelection`: the chosen sentences, the best relevance, and whether the passages
answer the question at all. One concern a module:

- :mod:`rag.evidence.config`: the settings and result types;
- :mod:`rag.evidence.candidates`: the quotable pieces of the passages, and which are whole;
- :mod:`rag.evidence.code`: code examples with the sentence that introduces them;
- :mod:`rag.evidence.tables`: table rows, read with their header;
- :mod:`rag.evidence.quoting`: how a chosen piece reads in the prompt and in the answer;
- :mod:`rag.evidence.features`: what the question asks for and each piece's cheap features;
- :mod:`rag.evidence.scorer`: the learned scorer and the reader's part (weights in ``weights.json``);
- :mod:`rag.evidence.choice`: the choice (maximal marginal relevance) and the passages cut to it.
"""

from rag.evidence.candidates import (
    as_quote,
    candidate_evidence,
    clean_spans,
    cut_at_start,
    is_fragment,
    is_list_line,
    is_whole,
    leans_back,
    title_heading,
    titled,
    without_footnotes,
)
from rag.evidence.choice import (
    EmbedFn,
    ReadFn,
    choose_evidence,
    evidence_passages,
    evidence_premises,
    select_evidence,
)
from rag.evidence.code import code_candidates, code_text, with_code_bonus
from rag.evidence.config import Evidence, EvidenceConfig, EvidenceSelection
from rag.evidence.features import (
    ANSWER_TYPES,
    FEATURE_NAMES,
    answer_pieces,
    answer_type,
    asks_how,
    holds_answer,
    lexical_scores,
    matches_type,
    sentence_features,
)
from rag.evidence.quoting import evidence_quote, prompt_text, with_verbatim
from rag.evidence.scorer import (
    WEIGHTS_FILE,
    ScorerWeights,
    learned_eligible,
    learned_scores,
    load_weights,
    read_weights,
    with_reader,
)
from rag.evidence.tables import is_table, row_text, table_candidates

__all__ = [
    "ANSWER_TYPES",
    "FEATURE_NAMES",
    "WEIGHTS_FILE",
    "EmbedFn",
    "Evidence",
    "EvidenceConfig",
    "EvidenceSelection",
    "ReadFn",
    "ScorerWeights",
    "answer_pieces",
    "answer_type",
    "as_quote",
    "asks_how",
    "candidate_evidence",
    "choose_evidence",
    "clean_spans",
    "code_candidates",
    "code_text",
    "cut_at_start",
    "evidence_passages",
    "evidence_premises",
    "evidence_quote",
    "holds_answer",
    "is_fragment",
    "is_list_line",
    "is_table",
    "is_whole",
    "leans_back",
    "learned_eligible",
    "learned_scores",
    "lexical_scores",
    "load_weights",
    "matches_type",
    "prompt_text",
    "read_weights",
    "row_text",
    "select_evidence",
    "sentence_features",
    "table_candidates",
    "title_heading",
    "titled",
    "with_code_bonus",
    "with_reader",
    "with_verbatim",
    "without_footnotes",
]
