"""rag.punkt against nltk's PunktSentenceTokenizer (the reference it must equal), both reading the
packaged model (rag/resources/punkt_tab), on hand-worked sentences, generated tricky text, and
every passage of the benchmark corpus; the packaged model is nltk's own punkt_tab."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_shared_data, shared_file

from rag.errors import MissingFileError
from rag.punkt import PunktSplitter, read_model
from rag.text import PUNKT_MODEL_DIR

ENGLISH = PUNKT_MODEL_DIR
CORPUS = shared_file("asqa", "corpus.jsonl")


@pytest.fixture(scope="module")
def splitter() -> PunktSplitter:
    return PunktSplitter(read_model(ENGLISH))


@pytest.fixture(scope="module")
def reference() -> object:
    import nltk.data
    from nltk.data import FileSystemPathPointer
    from nltk.tokenize.punkt import PunktSentenceTokenizer, load_punkt_params

    nltk.data.path.append(str(ENGLISH.parent))  # nltk >= 3.9.3 reads only under its search path
    try:
        tok = PunktSentenceTokenizer()
        tok._params = load_punkt_params(FileSystemPathPointer(str(ENGLISH)))
    finally:
        nltk.data.path.remove(str(ENGLISH.parent))
    return tok


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        # an abbreviation the model knows does not end the sentence; a plain word does
        ("Mr. Smith went to Washington. He left.", ["Mr. Smith went to Washington.", "He left."]),
        # initials before a capitalised name are not ends (the orthographic heuristic)
        ("J. S. Bach was born in 1685. He died in 1750.", ["J. S. Bach was born in 1685.", "He died in 1750."]),
        # closing brackets and quotes after the stop stay with their sentence
        ("(Sent1.) Sent2.", ["(Sent1.)", "Sent2."]),
        ('He said "hi." Then he left.', ['He said "hi."', "Then he left."]),
        # repeated marks are one end, at the last of them
        ("Very bad acting!!! I promise.", ["Very bad acting!!!", "I promise."]),
        # no space or punctuation after the stop: no candidate; a bracket after it is one
        ("Paris is in France.It is big.", ["Paris is in France.It is big."]),
        ("Paris is in France.[2] It is big.", ["Paris is in France.", "[2] It is big."]),
        # trailing white space is not part of the last sentence; leading white space is kept
        ("  One. Two.  \n", ["  One.", "Two."]),
        ("", []),
        ("no stop at all", ["no stop at all"]),
    ],
)
def test_hand_worked_splits(splitter: PunktSplitter, text: str, sentences: list[str]) -> None:
    assert splitter.tokenize(text) == sentences


def test_spans_index_the_text(splitter: PunktSplitter) -> None:
    text = "Henri Becquerel found it in 1896. Marie Curie named it."
    spans = list(splitter.span_tokenize(text))
    assert spans == [(0, 33), (34, 55)]
    assert [text[a:b] for a, b in spans] == splitter.tokenize(text)


@needs_shared_data
def test_every_corpus_passage_splits_as_nltk(splitter: PunktSplitter, reference: object) -> None:
    """The splits and offsets are nltk's on each of the benchmark corpus's ~10k passages."""
    n = 0
    with CORPUS.open(encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            assert list(splitter.span_tokenize(text)) == [tuple(s) for s in reference.span_tokenize(text)], text  # type: ignore[attr-defined]
            n += 1
    assert n > 10_000


_PIECES = [
    "Mr.", "U.S.", "J.", "S.", "Bach", "The", "he", "It", "1.", "3.5", "-4.", "...", ". . .", "--",
    "?", "!", ".", ",", ";", ":", '"', "'", ")", "(", "]", "}", "No.", "Vol.", "e.g.", "Inc.",
    "\n", "\n\n", "\t", "\u00a0", "\u00e9.", "\u00dcber", "x.)", 'end."', "[1]", "[2].", "II.", "jan.", "Jan.",
]  # fmt: skip


def test_generated_text_splits_as_nltk(splitter: PunktSplitter, reference: object) -> None:
    """Random strings of abbreviations, initials, numbers, ellipses, brackets, quotes and line
    breaks (the cases each of punkt's heuristics decides) split exactly as nltk splits them."""
    rng = random.Random(7)
    for _ in range(4000):
        text = "".join(rng.choice(_PIECES) + rng.choice(["", " ", " ", "\n"]) for _ in range(rng.randint(1, 12)))
        assert list(splitter.span_tokenize(text)) == [tuple(s) for s in reference.span_tokenize(text)], repr(text)  # type: ignore[attr-defined]


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    for name in ("abbrev_types.txt", "collocations.tab", "sent_starters.txt"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    with pytest.raises(MissingFileError, match="ortho_context.tab"):
        read_model(tmp_path)


def test_splitting_does_not_import_nltk() -> None:
    """The point of the module: a process that splits sentences never imports nltk (whose package
    import pulls in scipy.stats, scikit-learn and pandas)."""
    script = (
        "import sys\n"
        "from rag.text import split_sentences\n"
        "assert split_sentences('Mr. Smith left. He came back.') == ['Mr. Smith left.', 'He came back.']\n"
        "print('nltk' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.strip() == "False"


@needs_shared_data
def test_the_packaged_model_is_nltks_punkt_tab() -> None:
    """The four files shipped in the package are NLTK's English punkt_tab, byte for byte."""
    nltk_copy = shared_file("nltk_data", "tokenizers", "punkt_tab", "english")
    names = sorted(p.name for p in ENGLISH.iterdir())
    assert names == sorted(p.name for p in nltk_copy.iterdir()) and len(names) == 4
    for name in names:
        assert (ENGLISH / name).read_bytes() == (nltk_copy / name).read_bytes(), name
