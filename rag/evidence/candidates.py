"""Candidate evidence: the quotable pieces of the retrieved passages.

Contract: :func:`candidate_evidence` takes the passages and returns every piece of at least
``min_words`` words, in passage and text order, as :class:`rag.evidence.config.Evidence` with
offsets into its passage (``passage.text[start:end] == text``). A piece is a punkt sentence split
further at wiki headings, list markers and line breaks, without a title repeated as a heading or
markup at its start; a piece still holding markup is dropped. :func:`is_whole` says which pieces
may be chosen: not a fragment of a sentence cut where a passage was cut out of longer text
(:func:`is_fragment`, :func:`cut_at_start`), or else a whole line of a list (:func:`is_list_line`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.evidence.config import Evidence
from rag.text import content_words, ends_sentence, is_cut_off, sentence_spans
from rag.types import Passage

# Where punkt splits or glues wrongly: after an abbreviation that goes before a number or a name,
# "No." in "No. 1 hit" or "Mt." in "Mt. Everest" (the sentence ends on the abbreviation and the
# next begins "1 hit, …"), or before an example ("e.g.", "i.e."), and not at all before a piece
# starting in lower case ("… between Shinobi 20 and 21. was released in …").
_ENDS_ON_ABBREVIATION_RE = re.compile(
    r"(?:\b(?:[Nn]o|Mt|Ft|St|Dr|Mrs?|Ms|Lt|Col|Gen|Capt|Sgt|Rev|Prof|vs)|\b[Ee]\.g|\b[Ii]\.e)\.$"
)
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
    off (:func:`rag.text.is_cut_off`); or for
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


def as_quote(text: str) -> str:
    """An evidence sentence as the answer quotes it: without footnote markers
    (:func:`without_footnotes`), and a line of a list (:func:`is_list_line`), which has no full
    stop of its own, ended with one so the next sentence does not run on from it.

    >>> as_quote("Most own goals: 10, Richard Dunne[109]"), as_quote("It rained.[2]")
    ('Most own goals: 10, Richard Dunne.', 'It rained.')
    """
    out = without_footnotes(text)
    return out if not out or ends_sentence(out) else out + "."


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
    of each sentence), in passage and text order, with score 0. Code and tables (a passage's
    ``verbatim`` spans) are not prose: no piece is taken from them.

    >>> p = Passage(id="1", title="zip", text="Use strict=True to check lengths.\\nzip(a, b, strict=True)",
    ...             verbatim=((34, 56),))
    >>> [e.text for e in candidate_evidence([p], 3)]
    ['Use strict=True to check lengths.']
    """
    out: list[Evidence] = []
    for n, p in enumerate(passages, 1):
        for span in _sentences(p.text):
            for start, end in clean_spans(p, *span):
                text = p.text[start:end]
                if len(text.split()) >= min_words and not _overlaps(start, end, p.verbatim):
                    out.append(Evidence(n, start, end, text, 0.0))
    return out


def _overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def is_whole(piece: Evidence, passage: Passage) -> bool:
    """Whether a candidate may be chosen as evidence: not a fragment (:func:`is_fragment`,
    :func:`cut_at_start`), or else a whole line of a list (:func:`is_list_line`); a code example
    with its introduction (:mod:`rag.evidence.code`) or a table row (:mod:`rag.evidence.tables`)
    always."""
    if piece.code_start is not None or piece.header is not None:
        return True
    return not (is_fragment(piece.text) or cut_at_start(piece, passage)) or is_list_line(piece, passage)


def titled(passages: Sequence[Passage], cands: Sequence[Evidence]) -> list[str]:
    """Each candidate as "title: sentence", the text the ``title_cosine`` feature embeds.

    >>> p = Passage(id="1", title="Ravens", text="They won in 2013.")
    >>> titled([p], [Evidence(1, 0, 17, p.text, 0.0)])
    ['Ravens: They won in 2013.']
    """
    return [f"{passages[c.passage - 1].title}: {c.text}" for c in cands]
