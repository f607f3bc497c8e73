"""Result types shared by every stage of the pipeline.

Small frozen dataclasses with one fixed shape each; JSON-friendly through ``to_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["supported", "unsupported", "uncited"]


@dataclass(frozen=True)
class Location:
    """Where a passage is in its source file: the file (``path``, as indexed), the section path
    (the headings above it, outermost first), the pages it spans (PDF, 1-based, first and last)
    and the anchor of the nearest element with an id (HTML, EPUB)."""

    path: str
    section: tuple[str, ...] = ()
    pages: tuple[int, int] | None = None
    anchor: str | None = None

    def label(self) -> str:
        """The location as a person reads it: ``R-intro.pdf p. 14 › Simple manipulations``.

        >>> Location("docs/R-intro.pdf", ("Introduction", "Simple manipulations"), (14, 15)).label()
        'R-intro.pdf pp. 14-15 › Simple manipulations'
        >>> Location("json.html", ("json", "Basic Usage"), anchor="basic-usage").label()
        'json.html › Basic Usage'
        """
        name = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        if self.pages:
            first, last = self.pages
            name += f" p. {first}" if first == last else f" pp. {first}-{last}"
        return f"{name} › {self.section[-1]}" if self.section else name

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "section": list(self.section),
            "pages": list(self.pages) if self.pages else None,
            "anchor": self.anchor,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        pages = data.get("pages")
        return cls(
            path=str(data["path"]),
            section=tuple(str(s) for s in data.get("section") or ()),
            pages=(int(pages[0]), int(pages[1])) if pages else None,
            anchor=None if data.get("anchor") is None else str(data["anchor"]),
        )


@dataclass(frozen=True)
class Passage:
    """One retrievable unit of text (a chunk of a source document).

    ``id`` is unique inside an index; ``source`` is the file the passage came from (or the
    ``source`` field of a JSONL record); ``doc_id`` the document it was cut from. ``location``
    says where in the file it is (documents read by a reader: PDF, HTML, DOCX, EPUB, text);
    ``verbatim`` are the character spans of code and tables in ``text``, which are never taken
    for sentences of prose.
    """

    id: str
    text: str
    title: str = ""
    source: str = ""
    doc_id: str = ""
    location: Location | None = None
    verbatim: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "title": self.title,
            "source": self.source,
            "doc_id": self.doc_id,
        }
        if self.location is not None:
            out["location"] = self.location.to_dict()
        if self.verbatim:
            out["verbatim"] = [list(span) for span in self.verbatim]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        """A passage as :meth:`to_dict` wrote it (``TypeError`` / ``KeyError`` when it is not one)."""
        location = data.get("location")
        return cls(
            id=data["id"],
            text=data["text"],
            title=data.get("title", ""),
            source=data.get("source", ""),
            doc_id=data.get("doc_id", ""),
            location=Location.from_dict(location) if location else None,
            verbatim=tuple((int(a), int(b)) for a, b in data.get("verbatim") or ()),
        )


@dataclass(frozen=True)
class Hit:
    """A search result: the passage's row in the index, its score and 1-based rank."""

    row: int
    score: float
    rank: int


@dataclass(frozen=True)
class ScoredPassage:
    """A passage as handed to the generator, with the retrieval evidence behind it."""

    passage: Passage
    score: float
    rank: int
    bm25_rank: int | None = None
    dense_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "passage": self.passage.to_dict(),
            "score": self.score,
            "rank": self.rank,
            "bm25_rank": self.bm25_rank,
            "dense_rank": self.dense_rank,
        }


@dataclass(frozen=True)
class Citation:
    """A citation marker ``[n]`` (1-based, as numbered in the prompt) resolved to its passage."""

    number: int
    passage: Passage

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "passage_id": self.passage.id}


@dataclass(frozen=True)
class Support:
    """Where a statement comes from: ``passage`` is the 1-based number of a cited passage and
    ``passage.text[start:end]`` is the sentence of it that supports the statement."""

    passage: int
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"passage": self.passage, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Statement:
    """One sentence of an answer.

    ``text`` has the citation markers removed; ``raw`` is the sentence as generated.
    ``citations`` are the valid 1-based passage numbers in order of appearance (duplicates
    removed); ``invalid_citations`` the markers that pointed outside the given passages.
    ``verdict`` is set when the statement was checked against its cited passages; ``support``
    points at the sentences of the cited passages it comes from (character offsets).
    """

    text: str
    raw: str
    citations: tuple[int, ...] = ()
    invalid_citations: tuple[int, ...] = ()
    verdict: Verdict | None = None
    support: tuple[Support, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "raw": self.raw,
            "citations": list(self.citations),
            "invalid_citations": list(self.invalid_citations),
            "verdict": self.verdict,
            "support": [s.to_dict() for s in self.support],
        }


@dataclass(frozen=True)
class Answer:
    """What ``Pipeline.ask`` returns.

    ``passages`` are numbered as the citations in ``text`` number them (1-based). ``hidden`` are
    the statements left out of ``text`` because they were not supported (``hide_unsupported``).
    ``samples`` / ``chosen_sample`` say how many answers were drawn and which was kept (one, the
    first: kept in the JSON so that runs stay comparable). ``quoted_fallback``:
    no generated statement was supported, and the answer quotes the passages instead.
    ``answered`` is False when no passage bore on the question: ``text`` then says so and
    ``passages`` are the closest ones, not sources of an answer. ``missing_words`` are the
    question's words that no passage of the index holds (the documents never mention them).
    """

    question: str
    text: str
    statements: tuple[Statement, ...]
    passages: tuple[ScoredPassage, ...]
    generator: str
    timings: dict[str, float] = field(default_factory=dict)
    hidden: tuple[Statement, ...] = ()
    samples: int = 1
    chosen_sample: int = 0
    quoted_fallback: bool = False
    answered: bool = True
    missing_words: tuple[str, ...] = ()

    @property
    def citations(self) -> tuple[Citation, ...]:
        """Distinct valid citations in order of first appearance."""
        seen: dict[int, Citation] = {}
        for st in self.statements:
            for n in st.citations:
                if n not in seen:
                    seen[n] = Citation(n, self.passages[n - 1].passage)
        return tuple(seen.values())

    @property
    def dropped_citations(self) -> tuple[int, ...]:
        """Citation numbers that pointed to no given passage (never shown as sources)."""
        out: list[int] = []
        for st in self.statements:
            out.extend(n for n in st.invalid_citations if n not in out)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``rag ask --json``): each statement's ``support`` also carries the
        supporting sentence's ``text``, so an interface can highlight it without the offsets."""
        statements = []
        for st in self.statements:
            d = st.to_dict()
            for sup in d["support"]:
                passage = self.passages[sup["passage"] - 1].passage
                sup["passage_id"] = passage.id
                sup["text"] = passage.text[sup["start"] : sup["end"]]
            statements.append(d)
        return {
            "question": self.question,
            "answer": self.text,
            "answered": self.answered,
            "statements": statements,
            "citations": [c.to_dict() for c in self.citations],
            "dropped_citations": list(self.dropped_citations),
            "hidden_statements": [s.to_dict() for s in self.hidden],
            "passages": [p.to_dict() for p in self.passages],
            "generator": self.generator,
            "samples": self.samples,
            "chosen_sample": self.chosen_sample,
            "quoted_fallback": self.quoted_fallback,
            "missing_words": list(self.missing_words),
            "timings": dict(self.timings),
        }
