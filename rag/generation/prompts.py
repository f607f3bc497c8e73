"""Prompts: the project's own citation prompt, a closed-book prompt, and ALCE's prompt files.

Every builder returns chat messages (``[{"role", "content"}]``); the generator applies the
model's own chat template. Passages are numbered from 1 in the order given, and an answer's
``[n]`` refers to that number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.paths import benchmark_data_dir
from rag.types import Passage

#: ``default``: ``[n] Title:`` passages, the question last, one worked turn; ``zero-shot``: the
#: same without the worked turn; ``documents``: ALCE-style ``Document [n](Title: t)`` passages,
#: the question before and after them, one worked turn (measured worse on the 0.5B: it copied
#: the worked answer verbatim; kept for comparison); ``quote``: answer with sentences copied
#: from the passages (small models copy faithfully; what they rephrase they often get wrong).
#: Numbers: experiments/README.md.
#: ``evidence``: the passages reduced to the sentences that bear on the question
#: (``rag.evidence``), and a short composed answer, one sentence per reading.
STYLES: tuple[str, ...] = ("default", "zero-shot", "documents", "quote", "evidence")

ALCE_PROMPT_FILE = "asqa_default.json"
ALCE_CLOSEDBOOK_FILE = "asqa_closedbook.json"
ALCE_SEED = 42  # run.py's default --seed, which picks the demonstrations

SYSTEM = (
    "You answer questions using only the numbered passages you are given. "
    "After every sentence, write the numbers of the passages that support it in square "
    "brackets, like [1] or [2][3]. Never cite a passage that does not support the sentence. "
    "If the passages do not contain the answer, say that they do not. Be concise."
)

# No example sentence here: small models copy it verbatim as their answer (measured: the 0.5B
# and the 135M answered "The bridge opened in 1937 [2]." to unrelated questions).
INSTRUCTION = (
    "Answer the question below in two to four sentences, using only the passages above. "
    "End every sentence with the numbers of the passages that support it, in square brackets, "
    "such as [1] or [2][3]."
)

SYSTEM_DOCUMENTS = (
    "You answer questions using only the numbered documents you are given, and you cite them. "
    "Every sentence you write ends with the numbers of the documents that support it, in square "
    "brackets, right before the full stop, like [1] or [2][3]. Never cite a document that does "
    "not support the sentence. If the documents do not contain the answer, say that they do not."
)
INSTRUCTION_DOCUMENTS = (
    "Answer the question in two to four short sentences, using only the documents above. "
    "End every sentence with the numbers of the documents that support it, in square brackets, "
    "such as [1] or [2][3]."
)

# A short demonstration written for small models (their own text, not ALCE's): small models
# copy demos, so it is brief, on an unrelated topic, and shows the exact citation shape.
_DEMO_PASSAGES = (
    Passage(
        id="demo-1",
        title="Mount Kilimanjaro",
        text="Mount Kilimanjaro is a dormant volcano in Tanzania. Its highest point, Uhuru "
        "Peak, is 5,895 metres above sea level.",
    ),
    Passage(
        id="demo-2",
        title="Hans Meyer",
        text="The German geologist Hans Meyer and the Austrian climber Ludwig Purtscheller "
        "were the first to reach the summit of Kilimanjaro, in October 1889.",
    ),
)
_DEMO_QUESTION = "Who first climbed Kilimanjaro and how high is it?"
_DEMO_ANSWER = (
    "Kilimanjaro was first climbed in October 1889 by Hans Meyer and Ludwig Purtscheller [2]. "
    "Its highest point, Uhuru Peak, is 5,895 metres above sea level [1]."
)

SYSTEM_QUOTE = (
    "You answer questions by quoting the numbered passages you are given. Your answer is made of "
    "sentences copied word for word from the passages, each followed by the number of its passage "
    "in square brackets, like [2]. Copy only sentences that answer the question. If the question "
    "has several possible answers, quote a sentence for each."
)
INSTRUCTION_QUOTE = (
    "Answer the question below by copying, word for word, the one to three sentences of the passages "
    "above that answer it. End every sentence with the number of its passage in square brackets, "
    "such as [1]."
)
_DEMO_ANSWER_QUOTE = (
    "The German geologist Hans Meyer and the Austrian climber Ludwig Purtscheller were the first to "
    "reach the summit of Kilimanjaro, in October 1889 [2]. Its highest point, Uhuru Peak, is 5,895 "
    "metres above sea level [1]."
)

SYSTEM_EVIDENCE = (
    "You answer questions from the numbered passages you are given, in a few short sentences. "
    "Start with the direct answer: the name, date, place or number the question asks for. Use only "
    "facts the passages state. End every sentence with the number of its passage in square "
    "brackets, like [1]."
)
INSTRUCTION_EVIDENCE = (
    "Answer the question below in one to three short sentences, using only the passages above. If "
    "the question can be read in several ways and the passages answer more than one reading, write "
    "one sentence for each. End every sentence with the number of its passage in square brackets, "
    "such as [1]."
)

CLOSED_BOOK_SYSTEM = (
    "You answer questions accurately and concisely from your own knowledge. If a question "
    "is ambiguous, give the answer for each likely reading."
)


def format_passages(passages: Sequence[Passage]) -> str:
    """Passages numbered from 1, each as ``[n] Title: <title>\\n<text>``, blank-line separated.

    A passage without a title is shown as ``[n] <text>``.
    """
    blocks = []
    for i, p in enumerate(passages, start=1):
        text = " ".join(p.text.split())
        head = f"[{i}] Title: {p.title.strip()}\n" if p.title.strip() else f"[{i}] "
        blocks.append(head + text)
    return "\n\n".join(blocks)


def format_documents(passages: Sequence[Passage]) -> str:
    """Passages as ALCE shows them: ``Document [n](Title: <title>): <text>``, one per line.

    A passage without a title is shown as ``Document [n]: <text>``. (The ``documents`` style.)
    """
    lines = []
    for i, p in enumerate(passages, start=1):
        text = " ".join(p.text.split())
        title = " ".join(p.title.split())
        lines.append(f"Document [{i}](Title: {title}): {text}" if title else f"Document [{i}]: {text}")
    return "\n".join(lines)


def _user_turn(question: str, passages: Sequence[Passage]) -> str:
    # the question comes last, right before the answer: small models then answer it
    return f"Passages:\n\n{format_passages(passages)}\n\n{INSTRUCTION}\n\nQuestion: {question.strip()}"


def _user_turn_quote(question: str, passages: Sequence[Passage]) -> str:
    return f"Passages:\n\n{format_passages(passages)}\n\n{INSTRUCTION_QUOTE}\n\nQuestion: {question.strip()}"


def _user_turn_evidence(question: str, passages: Sequence[Passage]) -> str:
    return f"Passages:\n\n{format_passages(passages)}\n\n{INSTRUCTION_EVIDENCE}\n\nQuestion: {question.strip()}"


def _user_turn_documents(question: str, passages: Sequence[Passage]) -> str:
    q = question.strip()
    return f"Question: {q}\n\n{format_documents(passages)}\n\n{INSTRUCTION_DOCUMENTS}\n\nQuestion: {q}"


def rag_messages(question: str, passages: Sequence[Passage], style: str = "default") -> list[dict[str, str]]:
    """The project's prompt: answer from the passages only, cite ``[n]`` after each sentence.

    ``style="default"``: a system prompt with the citation rule, one short worked example (its
    own two passages, question and two-sentence cited answer) as a previous chat turn, then the
    passages as ``[n] Title: t``, the instruction and the question last. ``"zero-shot"`` leaves
    the worked turn out; ``"documents"`` is an ALCE-style variant; ``"quote"`` asks for sentences
    copied from the passages, with a worked turn that does so; ``"evidence"`` asks for a short
    composed answer, one sentence per reading, from passages already reduced to their evidence
    sentences (see ``STYLES``).

    Small models rarely cite on their own (the 0.5B cited 15-20% of its ASQA sentences,
    experiments/generator-choice/): the pipeline cites post hoc instead (``rag.citing.attribution``).
    """
    if not question or not question.strip():
        raise RagError("the question is empty; pass the question to answer")
    if style not in STYLES:
        raise RagError(f"unknown prompt style {style!r}; choose one of {', '.join(STYLES)}")
    turn, system, demo = {
        "documents": (_user_turn_documents, SYSTEM_DOCUMENTS, _DEMO_ANSWER),
        "quote": (_user_turn_quote, SYSTEM_QUOTE, _DEMO_ANSWER_QUOTE),
        "evidence": (_user_turn_evidence, SYSTEM_EVIDENCE, _DEMO_ANSWER),
    }.get(style, (_user_turn, SYSTEM, _DEMO_ANSWER))
    messages = [{"role": "system", "content": system}]
    if style != "zero-shot":
        messages.append({"role": "user", "content": turn(_DEMO_QUESTION, _DEMO_PASSAGES)})
        messages.append({"role": "assistant", "content": demo})
    messages.append({"role": "user", "content": turn(question, passages)})
    return messages


READER_SYSTEM = "You are a helpful assistant."
READER_INSTRUCTION = (
    "Answer with a short phrase (a name, a date, a place or a number) copied from the sentences above. "
    "If the question has several answers, give each, separated by semicolons."
)


def reader_messages(question: str, sentences: Sequence[str]) -> list[dict[str, str]]:
    """The evidence reader's prompt: candidate sentences as a list, then the question, and a request
    for the short answer(s) only (``rag.evidence.select_evidence``'s ``read``).

    >>> reader_messages("Who?", ["Ann won.", "Bob lost."])[1]["content"].splitlines()[:3]
    ['- Ann won.', '- Bob lost.', '']
    """
    if not question or not question.strip():
        raise RagError("the question is empty; pass the question to answer")
    lines = "\n".join(f"- {s}" for s in sentences)
    return [
        {"role": "system", "content": READER_SYSTEM},
        {"role": "user", "content": f"{lines}\n\nQuestion: {question.strip()}\n{READER_INSTRUCTION}"},
    ]


def closed_book_messages(question: str) -> list[dict[str, str]]:
    """A prompt with no passages (the closed-book baseline)."""
    if not question or not question.strip():
        raise RagError("the question is empty; pass the question to answer")
    return [
        {"role": "system", "content": CLOSED_BOOK_SYSTEM},
        {"role": "user", "content": f"Question: {question.strip()}\n\nAnswer in a few sentences."},
    ]


# --- ALCE ---------------------------------------------------------------------------------

_ALCE_KEYS = ("instruction", "demo_sep", "demo_prompt", "doc_prompt", "demos")


def load_alce_prompt_file(path: Path) -> dict[str, Any]:
    """Read and check an ALCE prompt file (JSON with instruction, demo_sep, demo_prompt,
    doc_prompt and demos)."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"ALCE prompt file {path} not found; pass prompt_file= or set RAG_SHARED_DATA")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RagError(f"ALCE prompt file {path} is not valid JSON: {exc}") from exc
    missing = [k for k in _ALCE_KEYS if not isinstance(data, dict) or k not in data]
    if missing:
        raise RagError(f"ALCE prompt file {path} lacks {', '.join(missing)}")
    return data


def _alce_doc(doc: Mapping[str, str], index: int, doc_prompt: str) -> str:
    # Same replacement order as ALCE's make_doc_prompt: title, text, then the 1-based id.
    return doc_prompt.replace("{T}", doc["title"]).replace("{P}", doc["text"]).replace("{ID}", str(index + 1))


def _alce_item(
    item: Mapping[str, Any],
    docs: Sequence[Mapping[str, str]],
    data: Mapping[str, Any],
    ndoc: int,
    test: bool,
) -> str:
    """One block as ALCE's ``make_demo`` builds it (a demonstration, or the test question)."""
    prompt = data["demo_prompt"].replace("{INST}", data["instruction"]).replace("{Q}", item["question"])
    if "{D}" in prompt:
        if ndoc == 0:
            prompt = prompt.replace("{D}\n", "")
        else:
            text = "".join(_alce_doc(d, i, data["doc_prompt"]) for i, d in enumerate(docs[:ndoc]))
            prompt = prompt.replace("{D}", text)
    prompt = prompt.replace("{A}", "").rstrip()
    if test:
        return prompt
    answer = item["answer"]
    if isinstance(answer, list):
        answer = "\n" + "\n".join(answer)
    return prompt + answer


def _alce_demo_ids(n_demos_total: int, n_demos: int, seed: int) -> list[int]:
    """The demonstrations ALCE's run.py picks: ``np.random.seed(seed)`` then
    ``np.random.choice(len(demos), shot, replace=False)``."""
    import numpy as np

    rng = np.random.RandomState(seed)
    return [int(i) for i in rng.choice(n_demos_total, n_demos, replace=False)]


def alce_prompt_text(
    question: str,
    passages: Sequence[Passage],
    *,
    prompt_file: Path | None = None,
    n_demos: int = 1,
    closed_book: bool = False,
    seed: int = ALCE_SEED,
) -> str:
    """The prompt text exactly as ALCE's ``run.py`` assembles it (demos, then the question).

    Demonstrations get as many documents as the question (ALCE's ``--ndoc`` applies to both);
    with ``closed_book`` (or no passages) the documents are left out.
    """
    if not question or not question.strip():
        raise RagError("the question is empty; pass the question to answer")
    if prompt_file is None:
        name = ALCE_CLOSEDBOOK_FILE if closed_book else ALCE_PROMPT_FILE
        prompt_file = benchmark_data_dir() / "alce-prompts" / name
    data = load_alce_prompt_file(prompt_file)
    demos = data["demos"]
    if not 0 <= n_demos <= len(demos):
        raise RagError(f"n_demos must be between 0 and {len(demos)} for {prompt_file}")
    ndoc = 0 if closed_book else len(passages)
    head = ""
    for i in _alce_demo_ids(len(demos), n_demos, seed) if n_demos else []:
        demo = demos[i]
        head += _alce_item(demo, demo.get("docs", []), data, ndoc, test=False)
        head += data["demo_sep"]
    docs = [{"title": p.title, "text": p.text} for p in passages]
    return head + _alce_item({"question": question}, docs, data, ndoc, test=True)


def alce_messages(
    question: str,
    passages: Sequence[Passage],
    *,
    prompt_file: Path | None = None,
    n_demos: int = 1,
    closed_book: bool = False,
) -> list[dict[str, str]]:
    """ALCE's prompt (see ``alce_prompt_text``) as one user message."""
    text = alce_prompt_text(question, passages, prompt_file=prompt_file, n_demos=n_demos, closed_book=closed_book)
    return [{"role": "user", "content": text}]
