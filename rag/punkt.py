"""Punkt sentence splitting without importing nltk.

Punkt (Kiss & Strunk, 2006, "Unsupervised Multilingual Sentence Boundary Detection") decides for
every ".", "?" and "!" whether it ends a sentence, from a model trained on a corpus: known
abbreviations, collocations across a period ("s. bach"), frequent sentence starters, and for each
word type the orthographic contexts (upper / lower case, sentence-initial / internal) it was seen
in. This module reads such a model in NLTK's ``punkt_tab`` format (four text files) and splits
text with it, giving the same sentences and offsets as nltk 3.9's
``PunktSentenceTokenizer.span_tokenize`` (checked against nltk on every corpus passage by
``tests/test_punkt.py``), which is what ALCE's ``nltk.sent_tokenize`` does.

Why not nltk itself: importing the ``nltk`` package imports scipy.stats, scikit-learn and pandas
when they are installed (about 2 s on a 2-core machine), and a cold ``rag ask`` only needs the
splitter. Only splitting is here, no training.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.errors import MissingFileError

# Orthographic context flags of a word type, as punkt_tab stores them (a sum of these bits).
_BEG_UC, _MID_UC, _UNK_UC = 1 << 1, 1 << 2, 1 << 3
_BEG_LC, _MID_LC, _UNK_LC = 1 << 4, 1 << 5, 1 << 6
_UC = _BEG_UC | _MID_UC | _UNK_UC
_LC = _BEG_LC | _MID_LC | _UNK_LC

_SENT_END = (".", "?", "!")
_NOT_SENTENCE_START = (";", ":", ",", ".", "!", "?")
_NUMBER_TYPE = "##number##"

# Characters that cannot be inside a word; "?" and "!" are among them, "." is not (abbreviations).
_NON_WORD = r"""(?:[)";}\]*:@'({\[?!])"""
# Multi-character punctuation: dashes, ellipses, spaced ellipses.
_MULTI_CHAR = r"(?:-{2,}|\.{2,}|(?:\.\s){2,}\.)"
# A word token: multi-character punctuation; or, from a character that may start a word, the
# shortest run of non-space up to a space, the end, other punctuation, or a comma that ends the
# word; or else one non-space character.
_WORD_RE = re.compile(
    rf"""({_MULTI_CHAR}|(?=[^("`{{\[:;&#*@)}}\]\-,])\S+?(?=\s|$|{_NON_WORD}|{_MULTI_CHAR}|,(?=$|\s|{_NON_WORD}|{_MULTI_CHAR}))|\S)"""
)
# A candidate sentence end, with what follows it: other punctuation, or space and the next token.
_END_CONTEXT_RE = re.compile(rf"[.?!](?=(?P<after_tok>{_NON_WORD}|\s+(?P<next_tok>\S+)))")
# Closing punctuation after a sentence end that belongs to the sentence before ("(Sent1.) Sent2.").
_REALIGN_RE = re.compile(r"""["')\]}]+?(?:\s+|(?=--)|$)""", re.MULTILINE)
_NUMERIC_RE = re.compile(r"^-?[.,]?\d[\d,.-]*\.?$")
_ELLIPSIS_RE = re.compile(r"\.\.+$")
_INITIAL_RE = re.compile(r"[^\W\d]\.$")
# Only ASCII white space separates a candidate's word from the text before it (as in nltk).
_ASCII_SPACE = frozenset(" \t\n\r\x0b\x0c")


@dataclass(frozen=True)
class PunktModel:
    """A trained punkt model: abbreviation types (lower case, no final period), collocations
    ``(word before the period, word after)``, frequent sentence starters, and each word type's
    orthographic context flags."""

    abbreviations: frozenset[str]
    collocations: frozenset[tuple[str, str]]
    sentence_starters: frozenset[str]
    orthography: Mapping[str, int]


def _lines(path: Path) -> list[str]:
    """The file's lines without their newline (a final newline ends the last line)."""
    if not path.is_file():
        raise MissingFileError(f"punkt model file {path} not found")
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_model(folder: Path) -> PunktModel:
    """The model in a ``punkt_tab`` language folder (``abbrev_types.txt``, ``collocations.tab``,
    ``sent_starters.txt``, ``ortho_context.tab``); :class:`MissingFileError` when one is missing."""
    collocations = set()
    for line in _lines(folder / "collocations.tab"):
        parts = line.split("\t")
        if len(parts) == 2:
            collocations.add((parts[0], parts[1]))
    orthography: dict[str, int] = {}
    for line in _lines(folder / "ortho_context.tab"):
        word, _, flags = line.partition("\t")
        orthography[word] = int(flags)
    return PunktModel(
        abbreviations=frozenset(_lines(folder / "abbrev_types.txt")),
        collocations=frozenset(collocations),
        sentence_starters=frozenset(_lines(folder / "sent_starters.txt")),
        orthography=orthography,
    )


class _Token:
    """A word token and what punkt decided about it."""

    __slots__ = ("text", "type", "sentbreak", "abbr", "ellipsis")

    def __init__(self, text: str) -> None:
        self.text = text
        low = text.lower()
        self.type = _NUMBER_TYPE if _NUMERIC_RE.match(low) else low
        self.sentbreak = False
        self.abbr = False
        self.ellipsis = False

    @property
    def period_final(self) -> bool:
        return self.text.endswith(".")

    @property
    def type_no_period(self) -> str:
        return self.type[:-1] if len(self.type) > 1 and self.type.endswith(".") else self.type

    @property
    def type_no_sentperiod(self) -> str:
        return self.type_no_period if self.sentbreak else self.type

    @property
    def is_initial(self) -> bool:
        return _INITIAL_RE.match(self.text) is not None


class PunktSplitter:
    """Sentences of a text by a :class:`PunktModel` (``span_tokenize`` / ``tokenize``, named as in
    nltk). Thread-safe: it keeps no state between calls."""

    def __init__(self, model: PunktModel) -> None:
        self.model = model

    # -- decisions on one candidate's context ----------------------------------------------------
    def _first_pass(self, tok: _Token) -> None:
        """What the token alone says: a lone end mark breaks, ".." is an ellipsis, a word ending
        in a period is an abbreviation when the model knows it, else a break."""
        text = tok.text
        if text in _SENT_END:
            tok.sentbreak = True
        elif _ELLIPSIS_RE.match(text):
            tok.ellipsis = True
        elif tok.period_final and not text.endswith(".."):
            stem = text[:-1].lower()
            if stem in self.model.abbreviations or stem.split("-")[-1] in self.model.abbreviations:
                tok.abbr = True
            else:
                tok.sentbreak = True

    def _starts_sentence(self, tok: _Token) -> bool | None:
        """The orthographic heuristic: True when ``tok`` must start a sentence, False when it
        cannot, None when the model cannot tell."""
        if tok.text in _NOT_SENTENCE_START:
            return False
        flags = self.model.orthography.get(tok.type_no_sentperiod, 0)
        first = tok.text[0]
        if first.isupper() and flags & _LC and not flags & _MID_UC:
            return True
        if first.islower() and (flags & _UC or not flags & _BEG_LC):
            return False
        return None

    def _second_pass(self, tok: _Token, nxt: _Token) -> None:
        """Revise a period-final token's decision by the token after it (collocations, the
        orthographic and sentence-starter heuristics, initials and ordinals)."""
        if not tok.period_final:
            return
        typ = tok.type_no_period
        next_typ = nxt.type_no_sentperiod
        initial = tok.is_initial
        if (typ, next_typ) in self.model.collocations:
            tok.sentbreak, tok.abbr = False, True
            return
        if (tok.abbr or tok.ellipsis) and not initial:
            if self._starts_sentence(nxt) is True:
                tok.sentbreak = True
                return
            if nxt.text[0].isupper() and next_typ in self.model.sentence_starters:
                tok.sentbreak = True
                return
        if initial or typ == _NUMBER_TYPE:
            starts = self._starts_sentence(nxt)
            if starts is False:
                tok.sentbreak, tok.abbr = False, True
                return
            if (
                starts is None
                and initial
                and nxt.text[0].isupper()
                and not self.model.orthography.get(next_typ, 0) & _LC
            ):
                tok.sentbreak, tok.abbr = False, True

    def _breaks_inside(self, context: str) -> bool:
        """Whether a sentence break falls in ``context`` before its last token."""
        tokens = [_Token(t) for line in context.split("\n") if line.strip() for t in _WORD_RE.findall(line)]
        for tok in tokens:
            self._first_pass(tok)
        for tok, nxt in zip(tokens, tokens[1:], strict=False):
            self._second_pass(tok, nxt)
            if tok.sentbreak:
                return True
        return False

    # -- candidates and slices ---------------------------------------------------------------------
    @staticmethod
    def _candidates(text: str) -> Iterator[tuple[re.Match[str], str]]:
        """Each candidate end with its context: the word before it, the mark, what follows. A
        candidate whose word would overlap the previous candidate's word is dropped in favour of
        the later one ("acting!!! I" is one context, at the last "!")."""
        prev_start = prev_stop = 0
        prev: re.Match[str] | None = None
        for m in _END_CONTEXT_RE.finditer(text):
            last_space = 0
            for i in range(m.start() - 1, prev_stop - 1, -1):
                if text[i] in _ASCII_SPACE:
                    last_space = i - prev_stop
                    break
            # a space at the very start of the gap counts as none, as in nltk
            start = prev_stop + last_space + 1 if last_space else prev_start
            if prev is not None and prev_stop <= start:
                yield prev, text[prev_start:prev_stop] + prev.group() + prev.group("after_tok")
            prev, prev_start, prev_stop = m, start, m.start()
        if prev is not None:
            yield prev, text[prev_start:prev_stop] + prev.group() + prev.group("after_tok")

    def _slices(self, text: str) -> Iterator[tuple[int, int]]:
        last = 0
        for m, context in self._candidates(text):
            if self._breaks_inside(context):
                yield last, m.end()
                last = m.start("next_tok") if m.group("next_tok") else m.end()
        yield last, len(text.rstrip())

    def span_tokenize(self, text: str) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of each sentence; closing quotes and brackets after a sentence's end
        mark stay with it."""
        slices = list(self._slices(text))
        shift = 0
        for i, (start, stop) in enumerate(slices):
            start += shift
            if i + 1 == len(slices):
                if stop > start:
                    yield start, stop
                continue
            nstart, nstop = slices[i + 1]
            m = _REALIGN_RE.match(text[nstart:nstop])
            if m:
                yield start, nstart + len(m.group(0).rstrip())
                shift = m.end()
            else:
                shift = 0
                if stop > start:
                    yield start, stop

    def tokenize(self, text: str) -> list[str]:
        """The sentences of ``text``."""
        return [text[a:b] for a, b in self.span_tokenize(text)]
