"""Text helpers every stage shares: sentences, sentence ends, words, answer normalisation.

Sentences are split with NLTK's English punkt model (``punkt_tab``: Apache-2.0, shipped inside
the package under ``rag/resources/punkt_tab``, see its NOTICE) by :mod:`rag.punkt`, which gives the
same sentences and offsets as ``nltk.sent_tokenize`` (what ALCE uses) without importing nltk. The
model is read from the package, never from the environment and never downloaded, so every machine
splits alike.
"""

from __future__ import annotations

import re
import string
import threading
from pathlib import Path

from rag.punkt import PunktSplitter, read_model

#: The packaged English punkt_tab model (four text files).
PUNKT_MODEL_DIR = Path(__file__).resolve().parent / "resources" / "punkt_tab" / "english"

#: A sentence's closing punctuation at the end of a text: a stop, then any closing quotes or brackets.
SENTENCE_END_RE = re.compile(r"([.!?][\"'\u201d\u2019)\]]*)$")
#: A word, for overlap counting (on lower-cased text).
WORD_RE = re.compile(r"[a-z0-9]+")
#: Function words left out of :func:`content_words`.
STOPWORDS = frozenset(
    "a an the of in on at to for by with from and or but is are was were be been being it its this that "
    "these those as which who whom whose what when where why how he she they them his her their there "
    "also not no has have had do does did than then so such into over after before about".split()
)
#: Words a question is phrased with that name nothing it is about ("How much can I …").
QUESTION_WORDS = frozenset(
    "i me my you your we our us can could should would will shall may might must much many".split()
)
_UNICODE_WORD_RE = re.compile(r"[^\W_]+")
_PUNCT_TABLE = str.maketrans("", "", string.punctuation)
_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_NOT_WORD_RE = re.compile(r"[^\w\s]")

_splitter: PunktSplitter | None = None
_splitter_lock = threading.Lock()


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` in order (runs of letters and digits)."""
    return WORD_RE.findall(text.lower())


def topic_words(question: str) -> list[str]:
    """The words of ``question`` that name what it is about, each once, in order: neither
    function words nor the words a question is phrased with (:data:`QUESTION_WORDS`).

    >>> topic_words("How much RAM can I give to an HDF5 reader, and how much to HDF5 writers?")
    ['ram', 'give', 'hdf5', 'reader', 'writers']
    >>> topic_words("Where did Skłodowska work?")  # a letter outside ASCII stays inside its word
    ['skłodowska', 'work']
    """
    found = _UNICODE_WORD_RE.findall(question.lower())
    return [w for w in dict.fromkeys(found) if w not in STOPWORDS and w not in QUESTION_WORDS]


def content_words(text: str) -> set[str]:
    """The lower-cased words of ``text`` that are not function words.

    >>> sorted(content_words("The cat sat on the mat in 1999."))
    ['1999', 'cat', 'mat', 'sat']
    """
    return {w for w in words(text) if w not in STOPWORDS}


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with a full stop, question or exclamation mark (closing quotes and
    brackets after it allowed)."""
    return SENTENCE_END_RE.search(text.rstrip()) is not None


# Words a finished English sentence does not end on: a text ending "... is the." was cut.
# (Most prepositions are left out: "the city she was born in." is finished; "found by." is not.)
DANGLING = frozenset(
    "a an the and or but nor of by is are was were be been being has have had its their his her".split()
)


def ends_dangling(text: str) -> bool:
    """Whether the last word of ``text`` is one no finished sentence ends on ("the", "of", "is")."""
    said = words(text)
    return bool(said) and said[-1] in DANGLING


def is_cut_off(text: str) -> bool:
    """True when ``text`` does not end like a finished sentence: no closing ``.``, ``!`` or ``?``,
    or a last word such as "the", "of" or "is" before it.

    >>> is_cut_off("Radium was found in 1898."), is_cut_off("Radium was found in"), is_cut_off("It is the.")
    (False, True, True)
    """
    text = text.strip()
    return not ends_sentence(text) or ends_dangling(text)


def jaccard(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two word sets (1.0 for two empty sets)."""
    return len(a & b) / len(a | b) if a or b else 1.0


def normalize_answer(s: str, *, all_punctuation: bool = False) -> str:
    """SQuAD normalisation as ALCE: lowercase, drop punctuation, drop a/an/the, collapse spaces.

    ALCE drops ASCII punctuation only (``string.punctuation``), so "2015–2016" keeps its en dash;
    with ``all_punctuation`` every character that is neither a word character nor a space goes
    (how the evidence stage matches a reader's answer to sentences: "2015-2016" then matches
    "2015–2016").

    >>> normalize_answer("The  Eiffel-Tower!"), normalize_answer("2015–2016")
    ('eiffeltower', '2015–2016')
    >>> normalize_answer("2015–2016", all_punctuation=True)
    '20152016'
    """
    s = s.lower()
    s = _NOT_WORD_RE.sub("", s) if all_punctuation else s.translate(_PUNCT_TABLE)
    return " ".join(_ARTICLES_RE.sub(" ", s).split())


def _punkt() -> PunktSplitter:
    """The packaged English punkt model, read once."""
    global _splitter
    if _splitter is None:
        with _splitter_lock:
            if _splitter is None:
                _splitter = PunktSplitter(read_model(PUNKT_MODEL_DIR))
    return _splitter


def load_sentence_splitter() -> None:
    """Read the sentence splitter's model now rather than at the first answer."""
    _punkt()


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences exactly as ``nltk.sent_tokenize(text)`` (English punkt_tab).

    >>> split_sentences("Mr. Smith went to Washington. He stayed.")
    ['Mr. Smith went to Washington.', 'He stayed.']
    """
    if not text or not text.strip():
        return []
    return list(_punkt().tokenize(text))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the sentences of ``text``; ``text[start:end]`` is a
    sentence, as :func:`split_sentences` gives it."""
    if not text or not text.strip():
        return []
    return [(int(a), int(b)) for a, b in _punkt().span_tokenize(text)]
