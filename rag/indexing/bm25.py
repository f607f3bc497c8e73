"""BM25 index on bm25s: tokenise, build, search, save/load (memory-mapped if asked).

Scores follow bm25s's formulas (Kamphuis et al. 2020). For ``lucene`` and ``robertson`` the
term-frequency part is ``tf / (tf + k1 * (1 - b + b * dl / avgdl))``: the classic Okapi score
(rank-bm25's ``BM25Okapi``) divided by the constant ``k1 + 1``, which changes no ranking. IDF:
``lucene`` ``ln(1 + (N - n + 0.5) / (n + 0.5))`` (never negative); ``robertson``
``ln((N - n + 0.5) / (n + 0.5))`` clamped at 0 for terms in more than half the documents.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import MissingFileError, RagError
from rag.types import Hit

logger = logging.getLogger(__name__)

METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")
# bm25s's (and scikit-learn's) default token pattern: runs of 2+ word characters.
_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")
_CONFIG_FILE = "rag_bm25.json"


@dataclass(frozen=True)
class BM25Config:
    """BM25 parameters and tokenisation (``stemmer``: a PyStemmer language or None;
    ``stopwords``: a bm25s stopword list code such as ``"en"``, or None)."""

    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"
    stemmer: str | None = "english"
    stopwords: str | None = "en"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise RagError(f"unknown BM25 method {self.method!r}: choose one of {', '.join(METHODS)}")
        if self.k1 < 0 or not 0 <= self.b <= 1:
            raise RagError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={self.k1}, b={self.b}")


def _stopword_set(code: str | None) -> frozenset[str]:
    if not code:
        return frozenset()
    from bm25s import stopwords as sw

    name = {"english": "en"}.get(code.lower(), code.lower())
    words = getattr(sw, f"STOPWORDS_{name.upper()}", None)
    if words is None:
        raise RagError(f"unknown stopword list {code!r}: use a bm25s code such as 'en', or None")
    return frozenset(words)


class Tokenizer:
    """Lower-case, ``\\w\\w+`` tokens, stopwords removed, then stemmed (PyStemmer)."""

    def __init__(self, stemmer: str | None = "english", stopwords: str | None = "en") -> None:
        self.stopwords = _stopword_set(stopwords)
        self._stemmer = None
        if stemmer:
            import Stemmer

            try:
                self._stemmer = Stemmer.Stemmer(stemmer)
            except KeyError as exc:
                raise RagError(
                    f"unknown stemmer {stemmer!r}: choose one of {', '.join(Stemmer.algorithms())} or None"
                ) from exc
        self._cache: dict[str, str] = {}

    def __call__(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokenise each text into a list of (stemmed) tokens."""
        words = [[w for w in _TOKEN_RE.findall(t.lower()) if w not in self.stopwords] for t in texts]
        if self._stemmer is None:
            return words
        new = sorted({w for ws in words for w in ws if w not in self._cache})
        if new:
            self._cache.update(zip(new, self._stemmer.stemWords(new), strict=True))
        return [[self._cache[w] for w in ws] for ws in words]


class BM25Index:
    """A BM25 index over a list of texts (row ``i`` is the ``i``-th text)."""

    def __init__(self, retriever: Any, config: BM25Config) -> None:
        self._retriever = retriever
        self.config = config
        self._tokenizer = Tokenizer(config.stemmer, config.stopwords)

    @classmethod
    def build(cls, texts: Sequence[str], config: BM25Config = BM25Config()) -> BM25Index:
        """Tokenise and index ``texts``."""
        import bm25s

        if not texts:
            raise RagError("cannot build a BM25 index from no texts: add documents first")
        tokenizer = Tokenizer(config.stemmer, config.stopwords)
        tokens = tokenizer(texts)
        # bm25s pins its own logger at DEBUG on import; keep its per-call chatter out of our logs
        if logging.getLogger("bm25s").level == logging.DEBUG:
            logging.getLogger("bm25s").setLevel(logging.WARNING)
        if not any(tokens):
            raise RagError("every text is empty after tokenisation (only stopwords or symbols)")
        retriever = bm25s.BM25(k1=config.k1, b=config.b, method=config.method)
        retriever.index(tokens, show_progress=False)
        index = cls(retriever, config)
        index._tokenizer = tokenizer
        return index

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """The tokens this index uses for ``texts`` (same for documents and queries)."""
        return self._tokenizer(texts)

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        """Those of ``words`` whose token no indexed text holds, in order: what the documents never
        mention ("hdf5", a misspelt "tounge"). A word whose stem is indexed is known ("indentation"
        where the texts say "indent"), and so is a stopword or a one-letter word (no token)."""
        vocabulary = self._retriever.vocab_dict
        tokens = self._tokenizer(list(words))  # lower-cased there, as every text is
        return [w for w, token in zip(words, tokens, strict=True) if token and token[0] not in vocabulary]

    def __len__(self) -> int:
        return int(self._retriever.scores["num_docs"])

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (float32, length ``len(self)``)."""
        ids = self._retriever.get_tokens_ids(self._tokenizer([query])[0])
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self._retriever.get_scores_from_ids(ids), dtype=np.float32)

    def search(self, query: str, k: int) -> list[Hit]:
        """Top ``k`` rows for ``query``, best first (ties: lower row first).

        Rows with score 0 (no query term) are dropped, so fewer than ``k`` hits come back when
        fewer rows match or the corpus is smaller; a query of only stopwords gives ``[]``.
        """
        if k <= 0:
            raise RagError(f"k must be a positive number of results, got {k}")
        scores = self.scores(query)
        n = min(k, scores.shape[0])
        if n == 0:
            return []
        part = np.argpartition(-scores, n - 1)[:n] if n < scores.shape[0] else np.arange(scores.shape[0])
        order = sorted(part.tolist(), key=lambda r: (-float(scores[r]), r))
        return [Hit(row=r, score=float(scores[r]), rank=i + 1) for i, r in enumerate(o for o in order if scores[o] > 0)]

    def search_many(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        """:meth:`search` for each query."""
        return [self.search(q, k) for q in queries]

    def save(self, directory: Path) -> None:
        """Write the bm25s arrays (``.npy``), vocabulary and parameters (JSON) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(directory), show_progress=False)
        (directory / _CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, mmap: bool = False) -> BM25Index:
        """Load an index written by :meth:`save` (``mmap``: memory-map the score arrays)."""
        import bm25s

        directory = Path(directory)
        cfg_path = directory / _CONFIG_FILE
        if not cfg_path.is_file():
            raise MissingFileError(f"no BM25 index in {directory}: {_CONFIG_FILE} is missing")
        config = BM25Config(**json.loads(cfg_path.read_text(encoding="utf-8")))
        retriever = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False, verbosity=0)
        return cls(retriever, config)
