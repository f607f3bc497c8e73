"""Code examples as evidence: the sentence that introduces a code block, with the block's first lines.

Contract: :func:`code_candidates` takes the passages and returns, for every code block (a
``verbatim`` span that is not a table) right after a sentence that introduces it, ending in a
colon ("To enable scaling log base 2 of the y axis:", "Syntax:"), going on into the block ("To
set up a vector x, use the R command"), or a short line of its own ending in a full stop
("Compute the last day of the current month."), one candidate spanning that
sentence and the block's first lines, with ``code_start`` where the code begins. Passages keep
code as verbatim spans, never sentences of prose (:func:`rag.evidence.candidate_evidence`), yet in
a manual the answer to "how do I …" is often such a block. :func:`code_text` renders one as the
answer quotes it: the introduction, then the code in backticks.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.evidence.config import Evidence
from rag.evidence.features import asks_how
from rag.evidence.tables import is_table
from rag.text import sentence_spans
from rag.types import Passage

#: The most of a block a candidate carries: lines, and characters (the first line always, up to
#: :data:`FIRST_LINE_CHARS`).
CODE_LINES = 3
CODE_CHARS = 160
FIRST_LINE_CHARS = 240
#: The longest introduction, in words: a longer sentence is prose that merely ends in a colon.
INTRO_WORDS = 40
#: The longest caption (a line of its own, ending in a full stop, right before the block).
CAPTION_WORDS = 20


def with_code_bonus(scores: Sequence[float], cands: Sequence[Evidence], question: str, bonus: float) -> list[float]:
    """The candidates' log-odds ``scores`` with ``bonus`` added to each code example when the
    question asks how (:func:`asks_how`): the learned scorer was fitted on encyclopedia prose,
    which holds no code, so it has no weight for it.

    >>> code = Evidence(1, 0, 20, "For example:\\nls -l", 0.0, code_start=13)
    >>> prose = Evidence(1, 21, 40, "It lists the files.", 0.0)
    >>> with_code_bonus([0.0, 0.5], [code, prose], "How do I list files?", 2.0)
    [2.0, 0.5]
    >>> with_code_bonus([0.0, 0.5], [code, prose], "Who wrote ls?", 2.0)
    [0.0, 0.5]
    """
    if not asks_how(question):
        return list(scores)
    return [s + (bonus if c.code_start is not None else 0.0) for s, c in zip(scores, cands, strict=True)]


def code_candidates(passages: Sequence[Passage], min_words: int = 1) -> list[Evidence]:
    """One candidate for each code block introduced by a sentence (see the module doc), of at
    least ``min_words`` words with its introduction, in passage and text order.

    >>> p = Passage(id="1", title="Logscale", text="To enable log scaling of the y axis:\\nset logscale y\\nDone.",
    ...             verbatim=((37, 51),))
    >>> [(e.text, e.code_start) for e in code_candidates([p])]
    [('To enable log scaling of the y axis:\\nset logscale y', 37)]
    """
    out: list[Evidence] = []
    for n, p in enumerate(passages, 1):
        for a, b in sorted(p.verbatim):
            if is_table(p.text[a:b]):
                continue
            start = _intro_start(p.text, a, p.verbatim)
            end = _code_end(p.text, a, b)
            if start is None or end is None:
                continue
            text = p.text[start:end]
            if len(text.split()) >= min_words:
                out.append(Evidence(n, start, end, text, 0.0, code_start=a))
    return out


def _intro_start(text: str, code: int, verbatim: Sequence[tuple[int, int]]) -> int | None:
    """Where the sentence before the block at ``code`` begins, when it is prose (no verbatim span
    in its line) and introduces the block: it ends in a colon or goes on into the block ("use the
    R command", "for example,") and has at most :data:`INTRO_WORDS` words, or it is a line of its
    own of at most :data:`CAPTION_WORDS` words ending in a full stop (a caption: "Compute the
    current date.")."""
    head = text[:code].rstrip()
    line = head.rfind("\n") + 1
    if head.endswith(("!", "?")) or any(a < len(head) and line < b for a, b in verbatim if a < code):
        return None
    spans = sentence_spans(head[line:])
    if not spans:
        return None
    start = line + spans[-1][0]
    n_words = len(head[start:].split())
    if head.endswith("."):
        return start if start == line and n_words <= CAPTION_WORDS else None
    return start if n_words <= INTRO_WORDS else None


def _code_end(text: str, a: int, b: int) -> int | None:
    """The end of the block's first lines (at most :data:`CODE_LINES`, :data:`CODE_CHARS`
    characters after the first line), None when its first line is over :data:`FIRST_LINE_CHARS`."""
    end = a
    lines = 0
    for line in text[a:b].split("\n"):
        if not line.strip():
            end += len(line) + 1
            continue
        if (lines and end + len(line) - a > CODE_CHARS) or lines >= CODE_LINES:
            break
        if not lines and len(line) > FIRST_LINE_CHARS:
            return None
        end += len(line) + 1
        lines += 1
    end = min(end, b)
    while end > a and text[end - 1].isspace():
        end -= 1
    return end if lines else None


def code_text(evidence: Evidence) -> str:
    """A code example as the answer quotes it: the introduction, then each line of code in
    backticks, then a full stop.

    >>> code_text(Evidence(1, 0, 51, "To enable log scaling of the y axis:\\nset logscale y", 0.0, code_start=37))
    'To enable log scaling of the y axis: `set logscale y`.'
    """
    cut = (evidence.code_start or evidence.start) - evidence.start
    intro = " ".join(evidence.text[:cut].split())
    code = [" ".join(line.split()) for line in evidence.text[cut:].split("\n") if line.strip()]
    return " ".join([intro, *(f"`{line}`" for line in code)]) + "."
