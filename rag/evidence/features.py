"""Features of a candidate sentence: what the question asks for, and cheap signals of relevance.

Contract: :func:`sentence_features` takes the question, the passages, the candidates and their
cosine, lexical and title-read cosine scores, and returns one row of :data:`FEATURE_NAMES` per
candidate (a float matrix): cosine similarity to the question, the cosine of "title: sentence"
(so "He won it in 1995" knows who), the IDF-weighted share of the question's content words it
holds (:func:`lexical_scores`), whether it holds the kind of thing the question asks for
(:func:`answer_type`, :func:`matches_type`), the names and numbers it holds that the question does
not, its passage's rank, title overlap and best cosine, and its place in the passage. What a
reader answered is matched against sentences by :func:`answer_pieces` and :func:`holds_answer`;
whether a question asks how to do something (what a code example answers) by :func:`asks_how`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.evidence.candidates import leans_back
from rag.evidence.config import Evidence
from rag.text import content_words, normalize_answer
from rag.types import Passage

if TYPE_CHECKING:
    import numpy as np

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_RE = re.compile(rf"\b(1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b({_MONTHS})\b|\b[0-9]{{1,2}}(st|nd|rd|th) century\b")
_NUMBER_RE = re.compile(
    r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
# Two or more capitalised words in a row (a person's or an organisation's name), not at the start.
_NAME_RE = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z'\-]+(?: (?:de |van |von |da |di |le |la )?[A-Z][a-z'\-.]+)+")
_PLACE_RE = re.compile(r"\b(in|at|from|near|of)\s+(the\s+)?[A-Z][a-z]+")
ANSWER_TYPES = ("date", "person", "place", "number")


def answer_type(question: str) -> str | None:
    """What the question asks for: ``date``, ``person``, ``place``, ``number``, or None.

    >>> answer_type("When did the war end?"), answer_type("Who wrote Hamlet?")
    ('date', 'person')
    >>> answer_type("How many moons does Mars have?"), answer_type("Why is the sky blue?")
    ('number', None)
    """
    q = " ".join(question.lower().split())
    if q.startswith("when") or re.search(r"\b(what|which) (year|date|decade|century|month|day)\b", q):
        return "date"
    if q.startswith(("who ", "whom ", "who's ")) or re.search(r"\b(who|whom)\b", q):
        return "person"
    if q.startswith("where") or re.search(r"\b(what|which) (country|city|state|place|town|continent)\b", q):
        return "place"
    if re.search(r"\bhow (many|much|long|old|tall|far|big|high|deep|fast)\b", q):
        return "number"
    return None


# A question that asks how to do something, or for a command or an option by name.
_ASKS_HOW_RE = re.compile(
    r"\bhow (?:do|can|could|should|would|shall|does) (?:i|you|we|one)\b|\bhow to\b|"
    r"\b(?:what|which) (?:command|option|setting|pragma|function|syntax|statement|flag|keyword)s?\b",
    re.IGNORECASE,
)


def asks_how(question: str) -> bool:
    """Whether ``question`` asks how to do something, or which command or option does it: the
    questions a code example answers.

    >>> asks_how("How do I save a plot as PNG?"), asks_how("Which pragma turns on WAL?")
    (True, True)
    >>> asks_how("How many columns can a table have?"), asks_how("Who discovered radium?")
    (False, False)
    """
    return _ASKS_HOW_RE.search(question) is not None


def matches_type(kind: str | None, sentence: str) -> bool:
    """Whether ``sentence`` holds something of the kind ``answer_type`` named."""
    if kind == "date":
        return bool(_DATE_RE.search(sentence))
    if kind == "number":
        return bool(_NUMBER_RE.search(sentence))
    if kind == "person":
        return bool(_NAME_RE.search(sentence))
    if kind == "place":
        return bool(_PLACE_RE.search(sentence))
    return False


def answer_pieces(question: str, answer: str) -> set[str]:
    """The short answers in a reader's reply: its pieces between semicolons and commas, normalised
    (:func:`rag.text.normalize_answer`), each of at least 2 characters and at most 8 words, none the question says.

    >>> sorted(answer_pieces("Who won the Super Bowl in 2013?", "Baltimore Ravens; the 49ers, 2013"))
    ['49ers', 'baltimore ravens']
    """
    question_text = normalize_answer(question, all_punctuation=True)
    out = set()
    for part in re.split(r"[;,]", answer):
        piece = normalize_answer(part, all_punctuation=True)
        if len(piece) >= 2 and len(piece.split()) <= 8 and piece not in question_text:
            out.add(piece)
    return out


def holds_answer(pieces: set[str], sentences: Sequence[str]) -> list[bool]:
    """Whether each sentence holds one of the reader's short answers (:func:`answer_pieces`),
    normalised alike.

    >>> holds_answer({"baltimore ravens"}, ["The Baltimore Ravens won.", "The 49ers lost."])
    [True, False]
    """
    normal = [normalize_answer(t, all_punctuation=True) for t in sentences]
    return [any(p in t for p in pieces) for t in normal]


def lexical_scores(question: str, sentences: Sequence[str]) -> list[float]:
    """For each sentence, the IDF-weighted share of the question's content words it contains
    (IDF over ``sentences``: ``log(1 + N / df)``); 0 for a question without content words."""
    q_words = content_words(question)
    bags = [content_words(s) for s in sentences]
    n = len(bags)
    idf = {w: math.log(1.0 + n / (1 + sum(w in b for b in bags))) for w in q_words}
    total = sum(idf.values())
    if total == 0.0:
        return [0.0] * n
    return [sum(idf[w] for w in q_words if w in b) / total for b in bags]


_BASE_FEATURES = (
    "cosine",
    "title_cosine",
    "lexical",
    "type_match",
    "rank_prior",
    "first_piece",
    "log_words",
    "new_names",
    "new_numbers",
    "title_overlap",
    "passage_cosine",
    "cosine_gap",
    "leans_back",
)
# What the question asks for, and the three features whose worth depends on it: a name is the
# answer to "who", a number to "how many" or "when".
_KIND_FEATURES = tuple(
    f"{kind}_{name}"
    for kind in (*ANSWER_TYPES, "other")
    for name in ("question", "type_match", "new_names", "new_numbers")
)
#: The cheap features of a candidate sentence (:func:`sentence_features`), in column order.
FEATURE_NAMES = _BASE_FEATURES + _KIND_FEATURES

_CAPITALISED_RE = re.compile(r"\b[A-Z][\w'\-]*")
_DIGITS_RE = re.compile(r"\b\d[\d,.]*\b")


def sentence_features(
    question: str,
    passages: Sequence[Passage],
    cands: Sequence[Evidence],
    cosine: Sequence[float],
    lexical: Sequence[float],
    title_cosine: Sequence[float],
) -> np.ndarray:
    """One row of :data:`FEATURE_NAMES` per candidate: its cosine, the cosine of it read with its
    passage's title (:func:`titled`), and its lexical relevance, whether
    it holds what the question asks for, the passage's rank prior (1 / n), whether it is its
    passage's first piece, its length (log words), how many capitalised words and numbers it holds
    that the question does not (log 1 + count: an answer is usually a name, date or number the
    question does not already say), the share of the question's content words in the passage's
    title, the passage's best cosine, the gap to the best cosine over all candidates, and whether it
    opens on a pronoun; then, for each answer type (and "other"), whether the question asks for it
    and that times the answer-type match, the new names and the new numbers."""
    import numpy as np

    q_lower = question.lower()
    q_words = content_words(question)
    kind = answer_type(question)
    cos = np.asarray(cosine, dtype=np.float64)
    best_in_passage: dict[int, float] = {}
    for c, x in zip(cands, cos, strict=True):
        best_in_passage[c.passage] = max(best_in_passage.get(c.passage, -1.0), float(x))
    top = float(cos.max()) if len(cos) else 0.0
    title_share = {
        n: (len(q_words & content_words(p.title)) / len(q_words) if q_words else 0.0) for n, p in enumerate(passages, 1)
    }
    kind_index = ANSWER_TYPES.index(kind) if kind in ANSWER_TYPES else len(ANSWER_TYPES)
    rows = []
    seen: set[int] = set()
    for c, x, tx, lex in zip(cands, cos, title_cosine, lexical, strict=True):
        words = c.text.split()
        caps = [m.group(0) for m in _CAPITALISED_RE.finditer(c.text, len(words[0]) if words else 0)]
        new_names = sum(1 for w in caps if w.lower() not in q_lower)
        new_numbers = sum(1 for m in _DIGITS_RE.finditer(c.text) if m.group(0) not in question)
        type_match = 1.0 if matches_type(kind, c.text) else 0.0
        names, numbers = math.log1p(new_names), math.log1p(new_numbers)
        per_kind = [0.0] * len(_KIND_FEATURES)
        per_kind[4 * kind_index : 4 * kind_index + 4] = [1.0, type_match, names, numbers]
        rows.append(
            (
                float(x),
                float(tx),
                float(lex),
                type_match,
                1.0 / c.passage,
                0.0 if c.passage in seen else 1.0,
                math.log(max(len(words), 1)),
                names,
                numbers,
                title_share[c.passage],
                best_in_passage[c.passage],
                top - float(x),
                1.0 if leans_back(c.text) else 0.0,
                *per_kind,
            )
        )
        seen.add(c.passage)
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))
