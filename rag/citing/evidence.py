"""Question-focused evidence: the sentences of the retrieved passages that bear on the question.

Every sentence of the given passages (punkt, with its character offsets) gets cheap features
(:func:`sentence_features`):

- cosine similarity of its embedding to the question's (the index's embedder), and of the
  embedding of "title: sentence" (the sentence read with its passage's title, so "He won it in
  1995" knows who),
- lexical overlap with the question: the IDF-weighted share of the question's content words it
  contains (IDF over the candidate sentences, so a word every passage repeats counts little),
- whether it holds the kind of thing the question asks for (a year or date for "when", a
  capitalised name for "who", a number for "how many", ...), and the names and numbers it holds
  that the question does not,
- its passage's rank, title and best cosine, and its place in the passage.

The default scorer (``scorer="learned"``) is a logistic regression on those features
(:data:`LEARNED_WEIGHTS`), fit on ASQA tuning questions to predict whether a sentence holds one of
the question's short answers. With a reader (``read``, the generator asked for the short answer
given the best ``reader_sentences`` candidates; ``EvidenceConfig.reader``), whether a sentence
holds what the reader answered (:func:`holds_answer`) is added to that score with
:data:`READER_WEIGHTS`; ``scorer="hand"`` is the earlier hand-set sum of cosine, lexical
overlap, answer type and a rank prior. The best are chosen greedily with maximal marginal
relevance (:func:`choose_evidence`): a sentence close to one already chosen loses ``diversity``
times that similarity, near-duplicates (most content words shared) are skipped, and at most
``per_passage`` come from one passage. ASQA's questions are ambiguous: evidence that covers
several readings is worth more than two copies of one.

Only whole sentences are chosen: a fragment where a passage was cut out of longer text (starting
in lower case, cut off, or a passage's first piece opening with the end of a cut name,
:func:`cut_at_start`) counts for the gate below but is never evidence. A line of a list that a
line break ends ("Most own goals: 10, Richard Dunne") is whole though it has no full stop
(:func:`is_list_line`).

When even the best sentence's relevance (cosine, lexical overlap and answer type, as the hand-set
scorer weighs them) is under ``min_relevance``, the passages do not answer the question
(``EvidenceSelection.answered`` is False): the pipeline then says so instead of answering.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.citing.attribution import content_words, with_markers
from rag.citing.citations import sentence_spans
from rag.citing.cleanup import is_cut_off
from rag.errors import RagError
from rag.types import Passage, Statement

if TYPE_CHECKING:
    import numpy as np

EmbedFn = Callable[[Sequence[str]], "np.ndarray"]
#: A reader: given the question and candidate sentences, the short answer(s) it reads in them.
ReadFn = Callable[[str, Sequence[str]], str]

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
SCORERS = ("learned", "hand")


@dataclass(frozen=True)
class EvidenceConfig:
    """How evidence is chosen: at most ``max_sentences`` in all and ``per_passage`` from one
    passage, each at least ``min_words`` words long. ``scorer`` ranks them: ``"learned"`` (the
    default) by :data:`LEARNED_WEIGHTS`, none under ``min_probability``; ``"hand"`` by relevance
    plus ``rank_weight`` / n for the sentences of the n-th passage (passages come best-retrieved
    first), none under ``keep_ratio`` times the best relevance. Relevance is cosine similarity plus
    ``lexical_weight`` times lexical overlap and ``type_weight`` for the answer-type match; a
    question whose best sentence's relevance is under ``min_relevance`` is not answered from these
    passages. ``diversity`` is the MMR penalty. The generator is shown the first
    ``prompt_sentences`` chosen; the rest can only be quoted. With ``judge_on_evidence``
    the attribution judge reads a passage that gave evidence as its title and evidence sentences
    only (a short premise, what the answer was written from) instead of the whole passage. With
    ``quote_words`` > 0 the composed answer is followed by the best evidence sentences, quoted word
    for word, while the answer stays within that many words (:func:`with_quotes`). With ``reader``
    (and a ``read`` function given to :func:`select_evidence`) the learned scorer's best
    ``reader_sentences`` whole candidates are read for the short answer first."""

    max_sentences: int = 8
    per_passage: int = 3
    min_words: int = 5
    # 0.4: on 200 tuning questions (offset 200) 0.4 kept what 0 gave (str_em of the first two
    # sentences 27.5 against 27.1) while 0.6 lost 3 points (24.1); eval/answers/evidence_tuning.txt.
    keep_ratio: float = 0.4
    lexical_weight: float = 0.5
    type_weight: float = 0.1
    diversity: float = 0.3
    duplicate_overlap: float = 0.7
    # Chosen by eval/answers/gate_calibration.py: at 0.55, 96% of 200 tuning questions pass and 16
    # of 20 off-topic questions are refused (eval/answers/README.md).
    min_relevance: float = 0.55
    judge_on_evidence: bool = False
    quote_words: int = 80
    # Chosen by eval/answers/evidence_tuning.py on 200 tuning questions, checked on 200 others: the
    # first two evidence sentences hold 28.5 of str_em instead of 25.1 (eval/answers/README.md).
    rank_weight: float = 1.2
    # "learned": sentences are chosen by the logistic regression of LEARNED_WEIGHTS (the
    # probability that a sentence holds a short answer), never one under ``min_probability``;
    # "hand": by the weighted relevance above plus the rank prior, never one under ``keep_ratio``.
    scorer: str = "learned"
    min_probability: float = 0.05
    # The generator is shown the first ``prompt_sentences`` chosen (the rest are only quoted), so
    # the prompt stays as long as it was with four.
    prompt_sentences: int = 4
    # With a reader given to select_evidence (the pipeline's generator), the best
    # ``reader_sentences`` whole candidates are shown to it and the sentences that hold its short
    # answer gain READER_WEIGHTS (eval/answers/reader_extract.py).
    reader: bool = True
    reader_sentences: int = 8

    def __post_init__(self) -> None:
        if self.scorer not in SCORERS:
            raise RagError(f"scorer must be one of {', '.join(SCORERS)}, got {self.scorer!r}")
        if not 0.0 <= self.min_probability < 1.0:
            raise RagError(f"min_probability must lie in [0, 1), got {self.min_probability}")
        if self.prompt_sentences < 1:
            raise RagError(f"prompt_sentences must be at least 1, got {self.prompt_sentences}")
        if self.reader_sentences < 1:
            raise RagError(f"reader_sentences must be at least 1, got {self.reader_sentences}")
        if self.max_sentences < 1 or self.per_passage < 1:
            raise RagError(
                f"max_sentences and per_passage must be at least 1, got {self.max_sentences}, {self.per_passage}"
            )
        if not 0.0 <= self.keep_ratio <= 1.0:
            raise RagError(f"keep_ratio must lie in [0, 1], got {self.keep_ratio}")
        if self.rank_weight < 0:
            raise RagError(f"rank_weight must be at least 0, got {self.rank_weight}")
        if self.quote_words < 0:
            raise RagError(f"quote_words must be at least 0, got {self.quote_words}")
        if not 0.0 < self.duplicate_overlap <= 1.0:
            raise RagError(f"duplicate_overlap must lie in (0, 1], got {self.duplicate_overlap}")


@dataclass(frozen=True)
class Evidence:
    """One chosen sentence: ``passage`` is its 1-based number among the given passages and
    ``passage.text[start:end] == text``; ``score`` is its relevance to the question."""

    passage: int
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class EvidenceSelection:
    """The chosen evidence in choice order, the best sentence's relevance, whether that
    relevance says the passages answer the question at all, and what the reader answered (None
    when no reader ran)."""

    evidence: tuple[Evidence, ...]
    relevance: float
    answered: bool
    reader_answer: str | None = None

    def passages(self) -> tuple[int, ...]:
        """The numbers of the passages that gave evidence, in passage order."""
        return tuple(sorted({e.passage for e in self.evidence}))


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


# Where punkt splits or glues wrongly: after an abbreviation that goes before a number or a name,
# "No." in "No. 1 hit" or "Mt." in "Mt. Everest" (the sentence ends on the abbreviation and the
# next begins "1 hit, …"), and not at all before a piece starting in lower case ("… between
# Shinobi 20 and 21. was released in …").
_ENDS_ON_ABBREVIATION_RE = re.compile(r"\b(?:[Nn]o|Mt|Ft|St|Dr|Mrs?|Ms|Lt|Col|Gen|Capt|Sgt|Rev|Prof|vs)\.$")
_GLUED_RE = re.compile(r"\d\. [a-z,;]")
_EMPTY_HEAD_RE = re.compile(r"(?:\([^()]*\)\s*[,;:]|\(\s*\)|[\"\u201c\u201d']?\s*[,;:]|\d+[\"\u201d] )")
# The first piece of a passage cut out of longer text can open with the capitalised end of a
# name and a comma ("Beast, Ben Harlow as Gaston, …"); a sentence opens so only with an adverb
# ("However, …", "Musically, …") or with the article's own title ("Culver, Indiana Culver is …").
_CUT_HEAD_RE = re.compile(r"([A-Z][\w.'\u2019&-]*), ")
_APPOSITIVE_RE = re.compile(
    r"[A-Z][\w.'\u2019&-]*, [^,]+, (?:is|was|are|were|has|had|have|will|would|can|could|did|does|"
    r"became|becomes|remains|remained|[a-z]+ed|[a-z]+[^s]s)\b"
)
_OPENING_ADVERBS = frozenset(
    "also however meanwhile moreover furthermore nevertheless nonetheless instead thus therefore "
    "hence later today currently now then still yet besides otherwise overall initially originally "
    "subsequently eventually ultimately finally first second third lastly additionally consequently "
    "similarly likewise again indeed afterwards afterward offshore inland elsewhere here there".split()
)


def is_fragment(sentence: str) -> bool:
    """True for a piece of a sentence, as passages cut out of longer text begin and end with: it
    starts with a lower-case letter (also just after an opening bracket or quote), or it is cut
    off (``rag.citing.cleanup.is_cut_off``); or for
    what punkt's mistakes leave: brackets that do not pair up (a closing one first, or more of one
    kind), a sentence ending on an abbreviation that goes before a number or name ("No.", "Mt."),
    two pieces glued at "21. was".

    >>> is_fragment("was released in Japanese theaters."), is_fragment("She is known for appearing as")
    (True, True)
    >>> is_fragment("Radium was discovered in 1898."), is_fragment('"Stuck" is a song.')
    (False, False)
    >>> is_fragment("Toilet: Ek Prem Katha (transl."), is_fragment("5/1976) and Denise Welch (No.")
    (True, True)
    >>> is_fragment("It was the band's first UK No."), is_fragment("It ended in season 21. was released in 2016.")
    (True, True)
    """
    text = sentence.strip()
    if not text or text[0].islower() or is_cut_off(text):
        return True
    # a piece opening on a bracket or quote and a lower-case word ("(by the President) to either
    # house …") is the rest of a sentence cut at the passage's start
    if text[0] in "([\"'\u201c" and len(text) > 1 and text[1].islower():
        return True
    # what is left of a name cut out before it: "(), is a South Korean …" (the brackets held
    # another script), '2" aired on …' and '", sung by …' (the end of a quoted title),
    # "(Buena Vista Street), Anaheim's …" (the end of a list)
    if _EMPTY_HEAD_RE.match(text):
        return True
    if _ENDS_ON_ABBREVIATION_RE.search(text) or _GLUED_RE.search(text):
        return True
    # a sentence split inside brackets ("Toilet: Ek Prem Katha (transl.", "5/1976) and …")
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return True
    return depth != 0


def is_list_line(piece: Evidence, passage: Passage) -> bool:
    """True when ``piece`` is a whole line of a list: a line break follows it in ``passage``, and
    with a full stop it would be a whole sentence (:func:`is_fragment`), not a line that leads into
    the next one (ending on a colon, a comma or "and"). Such a line need not end on a full stop.

    >>> p = Passage(id="1", title="Records", text="Most own goals: 10, Richard Dunne\\nMost in a season: 4")
    >>> is_list_line(Evidence(1, 0, 33, "Most own goals: 10, Richard Dunne", 0.0), p)
    True
    >>> is_list_line(Evidence(1, 34, 52, "Most in a season: 4", 0.0), p)  # the passage ends: maybe cut
    False
    >>> q = Passage(id="2", title="Army", text="The inductees made up:\\n10 percent of all")
    >>> is_list_line(Evidence(2, 0, 22, "The inductees made up:", 0.0), q)
    False
    """
    rest = passage.text[piece.end :]
    if not rest.lstrip(" \t").startswith("\n"):
        return False
    text = piece.text.strip()
    return bool(text) and text[-1] not in ":,;" and not is_fragment(text + ".")


def cut_at_start(piece: Evidence, passage: Passage) -> bool:
    """True when ``piece`` is ``passage``'s first piece and opens with the capitalised end of a
    sentence cut at the passage's start: one word and a comma, the word not an adverb ("However,
    …", "Musically, …"), not the head of an appositive the sentence goes on after ("Leucippus, the
    founder of atomism, was …"), and the passage not opening with its own title (an article's
    first lines: "Phidias, or Pheidias … was a Greek sculptor").

    >>> p = Passage(id="1", title="Beauty and the Beast (musical)", text="Beast, Ben Harlow as Gaston. It ran.")
    >>> cut_at_start(Evidence(1, 0, 27, "Beast, Ben Harlow as Gaston.", 0.0), p)
    True
    >>> q = Passage(id="2", title="Phidias", text="Phidias, or Pheidias, was a Greek sculptor.")
    >>> cut_at_start(Evidence(1, 0, 43, q.text, 0.0), q)
    False
    """
    if passage.text[: piece.start].strip():
        return False
    match = _CUT_HEAD_RE.match(piece.text)
    if match is None:
        return False
    word = match.group(1)
    if word.lower() in _OPENING_ADVERBS or word.lower().endswith("ly"):
        return False
    # an appositive closed by a comma and then the sentence going on ("Leucippus, the founder of
    # atomism, was …", "FIFA, the international governing body of football, have …")
    if _APPOSITIVE_RE.match(piece.text):
        return False
    title = re.sub(r"\s*\([^)]*\)$", "", passage.title).strip()
    return not (title and passage.text.lstrip().startswith(title))


# Footnote markers copied from web pages: "[5]", "[a]", "[citation needed]", "[note 3]".
_FOOTNOTE_RE = re.compile(r"\s*\[(?:\d{1,3}|[a-z]|citation needed|note \d+|nb \d+)\]", re.IGNORECASE)


# A sentence opening on one of these leans on an earlier one for its subject.
_LEANING = frozenset("he she it they his her its their this these those him them".split())


def leans_back(sentence: str) -> bool:
    """True when ``sentence`` opens on a pronoun ("She coined the word …"): quoted on its own it
    does not say who or what it is about.

    >>> leans_back("She coined the word radioactivity."), leans_back("Marie Curie coined it.")
    (True, False)
    """
    words = sentence.split(maxsplit=1)
    return bool(words) and words[0].strip("\"'(").lower() in _LEANING


def without_footnotes(text: str) -> str:
    """``text`` without footnote markers such as ``[5]`` or ``[citation needed]``: in an answer
    they would read as citations of passages.

    >>> without_footnotes("It was the largest spill,[6][7] larger than Ixtoc I.[a]")
    'It was the largest spill, larger than Ixtoc I.'
    """
    return _FOOTNOTE_RE.sub("", text).strip()


_SENTENCE_END_RE = re.compile(r"[.!?][\"'\u201d)\]]*$")


def as_quote(text: str) -> str:
    """An evidence sentence as the answer quotes it: without footnote markers
    (:func:`without_footnotes`), and a line of a list (:func:`is_list_line`), which has no full
    stop of its own, ended with one so the next sentence does not run on from it.

    >>> as_quote("Most own goals: 10, Richard Dunne[109]"), as_quote("It rained.[2]")
    ('Most own goals: 10, Richard Dunne.', 'It rained.')
    """
    out = without_footnotes(text)
    return out if not out or _SENTENCE_END_RE.search(out) else out + "."


# A wiki section heading left in the text ("== Early life =="), or what is left of one where a
# passage was cut inside it ("Early life ==="): punkt does not split there.
_HEADING_RE = re.compile(r"={2,}[^=\n]{1,100}?={2,}|={2,}")
# A list item's marker ("* John Cena beat …", '#"To Be Yours"', "# Crazy"): items of a list that
# punkt leaves in one sentence are split into pieces of their own, without the marker ("#1 hit"
# is not a marker).
_LIST_MARK_RE = re.compile(r"(?<!\S)(?:\*{1,3}\s*(?=\S)|#{1,3}\s*(?=[\"A-Z\u201c]))")
# A line break is where the page had structure (a title line, a list entry, a table row): punkt
# does not split there, so a piece ends there too.
_PIECE_BREAK_RE = re.compile(f"{_HEADING_RE.pattern}|{_LIST_MARK_RE.pattern}|\n")
# Markup a page's text can still carry at a sentence's start: tags ("</poem>",
# "<onlyinclude></onlyinclude>") and image options ("200px|right", "thumb|300px|16th").
_LEADING_MARKUP_RE = re.compile(r"(?:</?[A-Za-z][^<>]{0,80}>\s*|[^\s|]*(?:\|[^\s|]*)+\s+)+")
# Markup anywhere else in a sentence: it is not quotable text.
_MARKUP_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*[\s>/]|\||\{\{|\}\}|\[\[|\]\]")


def title_heading(title: str, sentence: str) -> int:
    """Characters at the start of ``sentence`` that only repeat the passage's ``title`` as a
    heading (with the space or line break after it), as pages cut into passages often begin, also
    where a new page starts inside a passage ("Robert Koch Heinrich Hermann Robert Koch (…) was
    …"); 0 when the sentence does not begin so. Copies one after another, plain or in quotes
    ('"Give Me a Home " Give Me a Home Give Me a Home (or …) is …'), are all cut.

    The text after the title must open a sentence (a capital letter, a digit or a quote) that
    names a word of the title again or opens on a word such as "The" or "In" that hardly ever
    follows a name inside a sentence, so a title that merely begins a sentence ("Paris Hilton is …" under
    the title "Paris Hilton") is left alone.

    >>> title_heading("Achilles", "Achilles In Greek mythology, Achilles was a hero.")
    9
    >>> title_heading("Paris Hilton", "Paris Hilton is an American media personality.")
    0
    """
    title = title.strip()
    if not title:
        return 0
    cut = 0
    while n := _one_title_heading(title, sentence[cut:]):
        cut += n
    return cut


def _one_title_heading(title: str, sentence: str) -> int:
    """:func:`title_heading` for one copy of the title: plain or in quotes ('"Title " Title …'),
    followed by a space or a line break."""
    quoted = re.match(r"[\"\u201c]" + re.escape(title) + r"\s*[\"\u201d]\s", sentence)
    if quoted:
        n = quoted.end()
    elif sentence.startswith(title) and sentence[len(title) : len(title) + 1].isspace():
        n = len(title) + 1
    else:
        return 0
    rest = sentence[n:].lstrip()
    n = len(sentence) - len(rest)
    if not rest or not (rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"'\u201c"):
        return 0
    if content_words(title) & content_words(rest) or rest.split(maxsplit=1)[0] in _SENTENCE_OPENERS:
        return n
    return 0


# Capitalised words that open a sentence but hardly ever follow a name inside one: after a title
# they show it is a heading ("United States hydrogen policy The principle of a fuel cell was …").
# Not "A": "Hepatitis A is …".
_SENTENCE_OPENERS = frozenset(
    "The An In On At During After Before From According It This These Those He She They His Her Its Their".split()
)


def clean_spans(passage: Passage, start: int, end: int) -> list[tuple[int, int]]:
    """The quotable pieces of the sentence ``passage.text[start:end]``, as offsets into the passage:
    split at wiki section headings, list markers and line breaks, without the title repeated as a
    heading (once or more, :func:`title_heading`) or markup at its start, trimmed of spaces. A
    piece that still holds markup is dropped."""
    text = passage.text
    start += title_heading(passage.title, text[start:end])
    bounds = [start]
    for m in _PIECE_BREAK_RE.finditer(text, start, end):
        bounds.extend((m.start(), m.end()))
    bounds.append(end)
    out: list[tuple[int, int]] = []
    for a, b in zip(bounds[::2], bounds[1::2], strict=True):
        while a < b and text[a].isspace():
            a += 1
        lead = _LEADING_MARKUP_RE.match(text, a, b)
        if lead:
            a = lead.end()
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b and not _MARKUP_RE.search(text, a, b):
            out.append((a, b))
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    """``sentence_spans`` with the splits punkt makes after "No." or "Mt." ("… only British No." +
    "1 hit, …") undone: the two spans are one sentence."""
    out: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if out and _ENDS_ON_ABBREVIATION_RE.search(text[out[-1][0] : out[-1][1]]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def candidate_evidence(passages: Sequence[Passage], min_words: int) -> list[Evidence]:
    """Every quotable piece of at least ``min_words`` words of ``passages`` (:func:`clean_spans`
    of each sentence), in passage and text order, with score 0."""
    out: list[Evidence] = []
    for n, p in enumerate(passages, 1):
        for span in _sentences(p.text):
            for start, end in clean_spans(p, *span):
                text = p.text[start:end]
                if len(text.split()) >= min_words:
                    out.append(Evidence(n, start, end, text, 0.0))
    return out


def is_whole(piece: Evidence, passage: Passage) -> bool:
    """Whether a candidate may be chosen as evidence: not a fragment (:func:`is_fragment`,
    :func:`cut_at_start`), or else a whole line of a list (:func:`is_list_line`)."""
    return not (is_fragment(piece.text) or cut_at_start(piece, passage)) or is_list_line(piece, passage)


def titled(passages: Sequence[Passage], cands: Sequence[Evidence]) -> list[str]:
    """Each candidate as "title: sentence", the text the ``title_cosine`` feature embeds.

    >>> p = Passage(id="1", title="Ravens", text="They won in 2013.")
    >>> titled([p], [Evidence(1, 0, 17, p.text, 0.0)])
    ['Ravens: They won in 2013.']
    """
    return [f"{passages[c.passage - 1].title}: {c.text}" for c in cands]


_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION_RE = re.compile(r"[^\w\s]")


def _normal(text: str) -> str:
    """Lower case, without punctuation, articles and extra spaces (as answers are compared)."""
    return " ".join(_ARTICLES_RE.sub(" ", _PUNCTUATION_RE.sub("", text.lower())).split())


def answer_pieces(question: str, answer: str) -> set[str]:
    """The short answers in a reader's reply: its pieces between semicolons and commas, normalised
    (:func:`_normal`), each of at least 2 characters and at most 8 words, none the question says.

    >>> sorted(answer_pieces("Who won the Super Bowl in 2013?", "Baltimore Ravens; the 49ers, 2013"))
    ['49ers', 'baltimore ravens']
    """
    question_text = _normal(question)
    out = set()
    for part in re.split(r"[;,]", answer):
        piece = _normal(part)
        if len(piece) >= 2 and len(piece.split()) <= 8 and piece not in question_text:
            out.add(piece)
    return out


def holds_answer(pieces: set[str], sentences: Sequence[str]) -> list[bool]:
    """Whether each sentence holds one of the reader's short answers (:func:`answer_pieces`),
    normalised alike.

    >>> holds_answer({"baltimore ravens"}, ["The Baltimore Ravens won.", "The 49ers lost."])
    [True, False]
    """
    normal = [_normal(t) for t in sentences]
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


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


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


#: The learned scorer: logistic-regression weights on :data:`FEATURE_NAMES` (and the bias) for the
#: probability that a candidate sentence holds one of the question's short answers, fit by
#: ``eval/answers/evidence_learn.py`` on the 648 ASQA dev questions outside pooled-300 (top 5
#: passages of the ``asqa`` index, 9,558 sentences; eval/answers/evidence_learn_title.txt); see
#: eval/answers/README.md.
LEARNED_WEIGHTS: dict[str, float] = {
    "cosine": 1.6474,
    "title_cosine": 7.8528,
    "lexical": -0.7655,
    "type_match": 0.3726,
    "rank_prior": 0.7639,
    "first_piece": 0.6415,
    "log_words": 0.2351,
    "new_names": 0.1842,
    "new_numbers": 0.1692,
    "title_overlap": -0.0647,
    "passage_cosine": -1.1682,
    "cosine_gap": 1.3695,
    "leans_back": -0.7153,
    "date_question": -1.1629,
    "date_type_match": 1.0262,
    "date_new_names": -0.0461,
    "date_new_numbers": 0.1791,
    "person_question": 0.0330,
    "person_type_match": -0.4020,
    "person_new_names": 0.4649,
    "person_new_numbers": -0.2547,
    "place_question": 0.8694,
    "place_type_match": 0.4679,
    "place_new_names": -0.3645,
    "place_new_numbers": -0.0473,
    "number_question": -0.3393,
    "number_type_match": 1.4721,
    "number_new_names": -0.6292,
    "number_new_numbers": 0.8276,
    "other_question": 0.8982,
    "other_type_match": 0.0000,
    "other_new_names": -0.1551,
    "other_new_numbers": 0.4932,
}
LEARNED_BIAS = -8.7840


def learned_scores(features: np.ndarray) -> np.ndarray:
    """The learned scorer's log-odds for each row of :func:`sentence_features`."""
    import numpy as np

    weights = np.array([LEARNED_WEIGHTS[name] for name in FEATURE_NAMES])
    return np.asarray(features @ weights + LEARNED_BIAS, dtype=np.float64)


#: The reader's part in the learned score: the score becomes ``scale * learned + holds * hit +
#: bias`` (``hit`` is 1 for a sentence holding the reader's short answer), a logistic regression
#: fit by ``eval/answers/reader_extract.py`` on tuning questions 200-647 (the learned score there
#: fit on questions 0-399; eval/answers/reader_extract.txt).
READER_WEIGHTS: dict[str, float] = {"scale": 0.9197, "holds": 1.0557, "bias": -0.5055}


def with_reader(scores: Sequence[float], hits: Sequence[bool]) -> list[float]:
    """The learned log-odds ``scores`` with the reader's verdicts ``hits`` added (:data:`READER_WEIGHTS`).

    >>> [round(x, 4) for x in with_reader([0.0, 0.0], [True, False])]
    [0.5502, -0.5055]
    """
    w = READER_WEIGHTS
    return [w["scale"] * x + (w["holds"] if hit else 0.0) + w["bias"] for x, hit in zip(scores, hits, strict=True)]


def learned_eligible(scores: Sequence[float], whole: Sequence[bool], min_probability: float) -> list[bool]:
    """Which candidates the learned scorer may choose: whole sentences whose probability
    (``scores`` are log-odds) is at least ``min_probability``; when none is, the best whole one,
    so an answered question always has evidence.

    >>> learned_eligible([0.0, -5.0, 1.0], [True, True, False], 0.05)
    [True, False, False]
    >>> learned_eligible([-4.0, -5.0], [True, True], 0.05)
    [True, False]
    """
    floor = math.log(min_probability / (1.0 - min_probability)) if min_probability > 0 else -math.inf
    out = [ok and x >= floor for x, ok in zip(scores, whole, strict=True)]
    if not any(out) and any(whole):
        best = max((i for i, ok in enumerate(whole) if ok), key=lambda i: scores[i])
        out[best] = True
    return out


def choose_evidence(
    scores: Sequence[float],
    passage_numbers: Sequence[int],
    similar: np.ndarray | None,
    bags: Sequence[set[str]],
    eligible: Sequence[bool],
    config: EvidenceConfig,
) -> list[int]:
    """Greedy maximal marginal relevance over the ``eligible`` candidates: the best ``scores``
    first, less ``config.diversity`` times the highest cosine (``similar``) to one already chosen;
    at most ``config.per_passage`` from one passage, none sharing ``config.duplicate_overlap`` of
    its content words (``bags``, Jaccard) with one chosen, at most ``config.max_sentences`` in
    all. Returns the chosen indices in choice order."""
    chosen: list[int] = []
    per_passage: dict[int, int] = {}
    remaining = {i for i, ok in enumerate(eligible) if ok}
    while remaining and len(chosen) < config.max_sentences:

        def mmr(i: int) -> float:
            if similar is None or not chosen:
                return float(scores[i])
            return float(scores[i]) - config.diversity * max(float(similar[i, j]) for j in chosen)

        i = max(sorted(remaining), key=mmr)
        remaining.discard(i)
        if per_passage.get(passage_numbers[i], 0) >= config.per_passage:
            continue
        if any(_jaccard(bags[i], bags[j]) >= config.duplicate_overlap for j in chosen):
            continue
        chosen.append(i)
        per_passage[passage_numbers[i]] = per_passage.get(passage_numbers[i], 0) + 1
    return chosen


def select_evidence(
    question: str,
    passages: Sequence[Passage],
    *,
    embed: EmbedFn | None = None,
    config: EvidenceConfig | None = None,
    read: ReadFn | None = None,
) -> EvidenceSelection:
    """The sentences of ``passages`` that bear on ``question`` (see the module doc). Without
    ``embed`` only the lexical and answer-type scores count. With ``read`` (and
    ``config.reader``), the learned scorer's best ``config.reader_sentences`` whole candidates are
    read for the short answer, and the sentences that hold it score higher (:func:`with_reader`)."""
    config = config or EvidenceConfig()
    cands = candidate_evidence(passages, config.min_words)
    if not cands:
        return EvidenceSelection((), 0.0, False)
    texts = [c.text for c in cands]
    lexical = lexical_scores(question, texts)
    kind = answer_type(question)
    cosine = [0.0] * len(cands)
    title_cosine = [0.0] * len(cands)
    vectors = None
    if embed is not None:
        # one call; the learned scorer also reads each sentence with its passage's title
        extra = titled(passages, cands) if config.scorer == "learned" else []
        both = embed([question, *texts, *extra])
        vectors = both[: len(texts) + 1]
        cosine = [float(x) for x in vectors[1:] @ vectors[0]]
        if extra:
            title_cosine = [float(x) for x in both[len(texts) + 1 :] @ vectors[0]]
    relevance = [
        cos + config.lexical_weight * lex + (config.type_weight if matches_type(kind, t) else 0.0)
        for cos, lex, t in zip(cosine, lexical, texts, strict=True)
    ]
    # Fragments count for the gate (they show what the passages are about) but are never chosen.
    whole = [is_whole(c, passages[c.passage - 1]) for c in cands]
    # the gate reads relevance alone
    answered = max(relevance) >= config.min_relevance and any(whole)
    words = [content_words(t) for t in texts]
    # Cosine between candidates, computed once for the MMR penalty.
    similar = vectors[1:] @ vectors[1:].T if vectors is not None else None
    reader_answer = None
    if config.scorer == "learned":
        features = sentence_features(question, passages, cands, cosine, lexical, title_cosine)
        scores = learned_scores(features).tolist()
        # a question the passages do not answer is not read
        if read is not None and config.reader and answered:
            ranked = sorted((i for i in range(len(cands)) if whole[i]), key=lambda i: -scores[i])
            reader_answer = read(question, [texts[i] for i in ranked[: config.reader_sentences]])
            scores = with_reader(scores, holds_answer(answer_pieces(question, reader_answer), texts))
        eligible = learned_eligible(scores, whole, config.min_probability)
    else:
        # the choice also prefers better-retrieved passages; a sentence far less relevant than the
        # best is never chosen, however well its passage ranks
        scores = [r + config.rank_weight / c.passage for r, c in zip(relevance, cands, strict=True)]
        best = max((x for x, ok in zip(relevance, whole, strict=True) if ok), default=0.0)
        eligible = [whole[i] and relevance[i] >= config.keep_ratio * best for i in range(len(cands))]
    chosen = choose_evidence(scores, [c.passage for c in cands], similar, words, eligible, config)
    evidence = tuple(Evidence(cands[i].passage, cands[i].start, cands[i].end, cands[i].text, scores[i]) for i in chosen)
    return EvidenceSelection(evidence, max(relevance), answered, reader_answer)


def evidence_passages(
    passages: Sequence[Passage], selection: EvidenceSelection, limit: int | None = None
) -> tuple[list[Passage], list[int]]:
    """The passages reduced to their evidence sentences (in text order; the first ``limit``
    chosen, or all), for the prompt, and for each the number of the full passage it came from
    (1-based), in passage order."""
    reduced: list[Passage] = []
    numbers: list[int] = []
    shown = selection.evidence[:limit]
    for n in sorted({e.passage for e in shown}):
        spans = sorted((e.start, e.end) for e in shown if e.passage == n)
        p = passages[n - 1]
        reduced.append(Passage(id=p.id, title=p.title, text=" ".join(p.text[a:b] for a, b in spans), source=p.source))
        numbers.append(n)
    return reduced, numbers


def evidence_premises(
    passages: Sequence[Passage], selection: EvidenceSelection, limit: int | None = None
) -> list[Passage]:
    """``passages`` with each one that gave evidence cut to its evidence sentences (numbering kept:
    the ``i``-th is still passage ``i``), for judging statements against what they were written from."""
    reduced, numbers = evidence_passages(passages, selection, limit)
    out = list(passages)
    for n, p in zip(numbers, reduced, strict=True):
        out[n - 1] = p
    return out


def _mostly_within(words: set[str], earlier: set[str], share: float = 0.8) -> bool:
    """True when at least ``share`` of ``words`` are in ``earlier`` and those that are not hold no
    digit: a sentence that retells one already said ("The clip features footage of Winehouse …"
    after "Featuring Winehouse making her way …"), not one that adds a year or a number.

    >>> _mostly_within({"clip", "winehouse", "motel", "room", "dim"}, {"winehouse", "motel", "room", "dim", "video"})
    True
    >>> _mostly_within({"rangers", "won", "cup", "1994", "season"}, {"rangers", "won", "cup", "1940", "season"})
    False
    """
    if not words:
        return False
    new = words - earlier
    return len(words & earlier) >= share * len(words) and not any(ch.isdigit() for w in new for ch in w)


def retells(words: set[str], earlier: set[str], duplicate_overlap: float = 0.7) -> bool:
    """True when a sentence with content words ``words`` adds nothing to one with ``earlier``: they
    share at least ``duplicate_overlap`` of their words (Jaccard), or 80% of ``words`` are in
    ``earlier`` and the rest hold no digit (:func:`_mostly_within`)."""
    return _jaccard(words, earlier) >= duplicate_overlap or _mostly_within(words, earlier)


def with_quotes(
    statements: Sequence[Statement],
    selection: EvidenceSelection,
    words: int,
    duplicate_overlap: float = 0.7,
) -> tuple[tuple[Statement, ...], int]:
    """``statements`` followed by evidence sentences quoted word for word (less footnote markers,
    and a list line with a full stop: :func:`as_quote`), each cited to its passage (a quote is
    supported by the passage it is copied from), in the order evidence was chosen, while the
    answer stays within ``words`` words. A sentence opening on a pronoun is not quoted
    (:func:`leans_back`). An answer with no statement always gets the first quote, however long.
    A sentence already in the answer, or sharing at least ``duplicate_overlap`` of its content
    words (Jaccard) with a sentence in it, or with 80% of its content words in one and no digit
    among the rest (:func:`retells`), is not quoted.
    Returns the statements and how many quotes were added."""
    out = list(statements)
    used = sum(len(st.text.split()) for st in out)
    bags = [content_words(st.text) for st in out]
    added = 0
    for e in selection.evidence:
        text = as_quote(e.text)
        if leans_back(text):
            continue
        n_words = len(text.split())
        if out and used + n_words > words:
            continue
        bag = content_words(text)
        if any(text == st.text for st in out) or any(retells(bag, b, duplicate_overlap) for b in bags):
            continue
        out.append(
            Statement(text=text, raw=with_markers(text, (e.passage,)), citations=(e.passage,), verdict="supported")
        )
        bags.append(bag)
        used += n_words
        added += 1
    return tuple(out), added
