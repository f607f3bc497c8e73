"""rag.generation.prompts: numbering, the citation instruction, ALCE-exact assembly, the examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import needs_shared_data, run_doctests, shared_file

from rag.generation.prompts import (
    _DEMO_QUESTION,
    alce_messages,
    alce_prompt_text,
    closed_book_messages,
    format_documents,
    format_passages,
    rag_messages,
)
from rag.types import Passage

P = [
    Passage(id="a", title="Golden Gate Bridge", text="The bridge  opened\nin 1937."),
    Passage(id="b", title="", text="It is 2,737 m long."),
    Passage(id="c", title="San Francisco", text="A city in California."),
]


def test_format_passages_numbers_from_one() -> None:
    assert format_passages(P) == (
        "[1] Title: Golden Gate Bridge\nThe bridge opened in 1937.\n\n"
        "[2] It is 2,737 m long.\n\n"
        "[3] Title: San Francisco\nA city in California."
    )
    assert format_passages([]) == ""


def test_rag_messages_structure_and_citation_instruction() -> None:
    msgs = rag_messages("When did the bridge open?", P, style="zero-shot")
    assert [m["role"] for m in msgs] == ["system", "user"]
    system, user = msgs[0]["content"], msgs[1]["content"]
    assert "[1]" in system and "[2][3]" in system and "only" in system
    assert format_passages(P) in user
    assert "Question: When did the bridge open?" in user
    assert user.index("[3] Title: San Francisco") < user.index("Question:")
    assert "End every sentence" in user
    assert user.rstrip().endswith("Question: When did the bridge open?")


def test_rag_messages_default_style_adds_one_worked_turn() -> None:
    msgs = rag_messages("Q?", P)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    demo_user, demo_answer = msgs[1]["content"], msgs[2]["content"]
    assert "[2] Title: Hans Meyer" in demo_user and demo_user.endswith("Question: " + _DEMO_QUESTION)
    assert "[1]" in demo_answer and "[2]" in demo_answer
    assert msgs[3]["content"].endswith("Question: Q?")
    assert msgs[0]["content"] == rag_messages("Q?", P, style="zero-shot")[0]["content"]


def test_format_documents_alce_shape() -> None:
    assert format_documents(P) == (
        "Document [1](Title: Golden Gate Bridge): The bridge opened in 1937.\n"
        "Document [2]: It is 2,737 m long.\n"
        "Document [3](Title: San Francisco): A city in California."
    )
    assert format_documents([]) == ""


def test_rag_messages_documents_style() -> None:
    msgs = rag_messages("When did the bridge open?", P, style="documents")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    user = msgs[3]["content"]
    assert format_documents(P) in user
    # the question both before the documents and last, right before the answer
    assert user.startswith("Question: When did the bridge open?\n\nDocument [1](Title: Golden Gate Bridge)")
    assert user.rstrip().endswith("[2][3].\n\nQuestion: When did the bridge open?")
    assert user.count("Question: When did the bridge open?") == 2


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_question_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="question is empty"):
        rag_messages(bad, P)
    with pytest.raises(ValueError, match="question is empty"):
        closed_book_messages(bad)


def test_unknown_style_and_prompt_refused() -> None:
    with pytest.raises(ValueError, match="default, zero-shot, documents"):
        rag_messages("Q?", P, style="fancy")


def test_closed_book_has_no_passages() -> None:
    msgs = closed_book_messages("Who won?")
    assert "Who won?" in msgs[-1]["content"]
    assert "[1]" not in "".join(m["content"] for m in msgs)


TINY = {
    "instruction": "Inst.",
    "demo_sep": "\n\n\n",
    "demo_prompt": "{INST}\n\nQuestion: {Q}\n\n{D}\nAnswer: {A}",
    "doc_prompt": "Document [{ID}](Title: {T}): {P}\n",
    "demos": [
        {
            "question": "DQ?",
            "answer": "DA [1].",
            "docs": [
                {"title": "DT1", "text": "dp1"},
                {"title": "DT2", "text": "dp2"},
                {"title": "DT3", "text": "dp3"},
            ],
        }
    ],
}
TWO = [Passage(id="1", title="T1", text="p1"), Passage(id="2", title="T2", text="p2")]


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "prompt.json"
    path.write_text(json.dumps(data))
    return path


def test_alce_assembly_matches_hand_written_string(tmp_path: Path) -> None:
    # ALCE's make_demo: rstrip after removing {A}, then the answer glued on ("Answer:DA").
    expected = (
        "Inst.\n\nQuestion: DQ?\n\n"
        "Document [1](Title: DT1): dp1\nDocument [2](Title: DT2): dp2\n\n"
        "Answer:DA [1]."
        "\n\n\n"
        "Inst.\n\nQuestion: Q?\n\n"
        "Document [1](Title: T1): p1\nDocument [2](Title: T2): p2\n\n"
        "Answer:"
    )
    msgs = alce_messages("Q?", TWO, prompt_file=_write(tmp_path, TINY))
    assert msgs == [{"role": "user", "content": expected}]


def test_alce_zero_shot_and_closed_book(tmp_path: Path) -> None:
    path = _write(tmp_path, TINY)
    assert alce_prompt_text("Q?", TWO, prompt_file=path, n_demos=0) == (
        "Inst.\n\nQuestion: Q?\n\nDocument [1](Title: T1): p1\nDocument [2](Title: T2): p2\n\nAnswer:"
    )
    # no documents: "{D}\n" is removed, in the demo too
    assert alce_prompt_text("Q?", TWO, prompt_file=path, closed_book=True) == (
        "Inst.\n\nQuestion: DQ?\n\nAnswer:DA [1].\n\n\nInst.\n\nQuestion: Q?\n\nAnswer:"
    )


def test_alce_list_answer_joined_with_newlines(tmp_path: Path) -> None:
    data = json.loads(json.dumps(TINY))
    data["demos"][0]["answer"] = ["line one", "line two"]
    text = alce_prompt_text("Q?", TWO, prompt_file=_write(tmp_path, data), n_demos=1)
    assert "\nAnswer:\nline one\nline two\n\n\nInst." in text


def test_alce_demo_choice_follows_run_py_seed() -> None:
    import numpy as np

    from rag.generation.prompts import _alce_demo_ids

    np.random.seed(42)  # ALCE run.py, default --seed
    reference = [int(i) for i in np.random.choice(4, 2, replace=False)]
    assert _alce_demo_ids(4, 2, 42) == reference


@needs_shared_data
def test_alce_real_prompt_file_one_demo_five_docs() -> None:
    path = shared_file("alce-prompts", "asqa_default.json")
    data = json.loads(path.read_text())
    five = [Passage(id=str(i), title=f"T{i}", text=f"text {i}") for i in range(5)]
    text = alce_messages("Who sang it?", five)[0]["content"]
    assert text.startswith(data["instruction"] + "\n\nQuestion: ")
    assert text.count(data["instruction"]) == 2
    assert text.count("Document [") == 10  # the demo gets as many documents as the question
    assert text.endswith("Document [5](Title: T4): text 4\n\nAnswer:")


def test_alce_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        alce_messages("Q?", TWO, prompt_file=tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"instruction": "x"}))
    with pytest.raises(ValueError, match="lacks demo_sep"):
        alce_messages("Q?", TWO, prompt_file=bad)
    with pytest.raises(ValueError, match="n_demos"):
        alce_messages("Q?", TWO, prompt_file=_write(tmp_path, TINY), n_demos=2)


def test_the_module_examples_hold() -> None:
    """The examples in rag.generation.prompts's docstrings (the reader prompt's) are run."""
    import rag.generation.prompts

    run_doctests(rag.generation.prompts)
