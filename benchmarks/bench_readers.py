"""Benchmark: the document readers (rag.indexing.readers) against the other libraries that could
read the same files, on real documents from Debian packages.

For each format, each candidate reads every file of that format under ``--dir`` and the script
prints documents, pages, characters, seconds, pages/s (PDF) or documents/s, and quality counts
measured on the text itself (no dictionary):

* PDF: ``split`` = tokens of 1-2 letters that are not common words (a word split by a stray
  space, "exam ple"), ``joined`` = alphabetic tokens of 20+ letters (missed spaces,
  "thatcanhold"), ``lig`` = ligature characters left (ﬁ, ﬂ), ``hyph`` = line-end hyphens left
  unjoined ("exam-" then "ple"), ``heads`` = lines that repeat on 30%+ of the pages modulo page
  numbers among a page's first and last two lines (running heads and footers left in); ``split``
  and ``joined`` per 1,000 words, the others counts.
* HTML: ``boiler`` = share of characters in lines that recur in 30%+ of the pages of the same site
  (navigation, footers), ``script`` = documents whose text holds script code.
* DOCX, EPUB, text: characters, and for text the reST/Markdown markup left (``:ref:``, ``**``...).

The chosen readers: pypdfium2 (PDF), selectolax's Lexbor parser (HTML, EPUB), python-docx (DOCX); the
ratio lines divide their speed by each other candidate's, all measured in this run.

    python benchmarks/bench_readers.py --make-corpus /tmp/corpus   # Debian packages + pandoc
    python benchmarks/bench_readers.py --dir /tmp/corpus [--plumber-pages 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import subprocess
import time
import warnings
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from rag.indexing.readers import read_document
from rag.indexing.readers.base import ReaderError, ReadLimits

#: The Debian packages the corpus is made from (never r-doc-pdf nor python3-doc: kept for checks).
PACKAGES = (
    "bash-doc gnuplot-doc octave-doc sqlite3-doc debian-reference-en postgresql-doc-15 git-doc sphinx-doc "
    "debian-handbook"
).split()
COMMON_SHORT = set(
    "a i o an as at be by do go he if in is it me my no of on or so to up us we am ok vs id eg ie vi cd ls "
    "rm mv cp ps df du os db ip tv pc uk us".split()
)
#: What script code left in a page's text looks like (the pages are documentation: the pattern
#: avoids the words "function" and "var" of the prose and the examples).
SCRIPT = re.compile(r"document\.getElementById|window\.\w+\s*=|\.style\.display|function\s*\w*\s*\([^)]*\)\s*\{")
LIMITS = ReadLimits(max_file_mb=1000, max_unzipped_mb=2000)


# ---------------------------------------------------------------- the corpus


def make_corpus(out: Path, per_site: int) -> None:
    """Download the packages (apt-get download), unpack them, and lay out pdf/, html/<site>/,
    docx/ and epub/ (pandoc conversions of HTML pages) and text/."""
    debs, tree = out / "debs", out / "tree"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    doc = tree / "usr" / "share" / "doc"
    pdfs = [
        tree / "usr/share/debian-reference/debian-reference.en.pdf",
        doc / "bash/bash.pdf",
        doc / "bash/bashref.pdf",
        doc / "gnuplot/gnuplot.pdf",
        doc / "octave/liboctave.pdf",
        doc / "octave/octave.pdf",
        doc / "octave/refcard-a4.pdf",
        doc / "sqlite3/copyright-release.pdf",
    ]
    (out / "pdf").mkdir(exist_ok=True)
    for pdf in pdfs:
        shutil.copy(pdf, out / "pdf" / pdf.name)
    sites = {
        "postgresql": sorted((doc / "postgresql-doc-15/html").glob("*.html")),
        "sqlite": sorted((doc / "sqlite3").glob("*.html")),
        "git": sorted((doc / "git-doc").glob("*.html")),
        "sphinx": sorted(p for p in (doc / "sphinx-doc/html").rglob("*.html") if "_" not in p.parts[-2][:1]),
        "debian-reference": sorted((tree / "usr/share/debian-reference").glob("*.en.html")),
        "debian-handbook": sorted((doc / "debian-handbook/html/en-US").glob("*.html")),
    }
    rng = random.Random(0)
    for site, files in sites.items():
        files = [f for f in files if f.is_file()]
        chosen = sorted(rng.sample(files, min(per_site, len(files))))
        folder = out / "html" / site
        folder.mkdir(parents=True, exist_ok=True)
        for f in chosen:
            shutil.copy(f, folder / f.name)
    text = out / "text"
    text.mkdir(exist_ok=True)
    for f in sorted((doc / "sphinx-doc/html/_sources").rglob("*.rst.txt")):
        shutil.copy(f, text / f.name)
    for f in sorted((doc / "git-doc").glob("*.txt"))[:80]:
        shutil.copy(f, text / f.name)
    for f in sorted(doc.rglob("*.md")):
        shutil.copy(f, text / f.name)
    if shutil.which("pandoc"):
        (out / "docx").mkdir(exist_ok=True)
        (out / "epub").mkdir(exist_ok=True)
        sources = (
            sorted((out / "html" / "postgresql").glob("*.html"))[:20]
            + sorted((out / "html" / "debian-handbook").glob("*.html"))[:20]
        )
        for f in sources:
            subprocess.run(["pandoc", str(f), "-o", str(out / "docx" / f"{f.parent.name}-{f.stem}.docx")], check=False)
        for f in sorted((tree / "usr/share/debian-reference").glob("ch*.en.html")):
            subprocess.run(["pandoc", str(f), "-o", str(out / "epub" / f"{f.stem}.epub")], check=False)
    print(f"corpus in {out}: " + ", ".join(f"{p.name} {sum(1 for _ in p.rglob('*.*'))}" for p in sorted(out.iterdir())))


# ---------------------------------------------------------------- quality counts


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+", text)


def pdf_rates(pages: list[str]) -> dict[str, float]:
    """Split and joined words per 1,000 words."""
    tokens = words("\n".join(pages))
    per_k = 1000 / max(len(tokens), 1)
    split = sum(1 for t in tokens if len(t) <= 2 and t.lower() not in COMMON_SHORT)
    joined = sum(1 for t in tokens if len(t) >= 20)
    return {"split": split * per_k, "joined": joined * per_k}


def pdf_quality(pages: list[str]) -> dict[str, float]:
    """One document's ligatures, unjoined line-end hyphens and running-head lines (counts)."""
    lig = sum("\n".join(pages).count(c) for c in "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06")
    hyph = sum(len(re.findall(r"[a-z]-\n[a-z]", page)) for page in pages)
    keys: Counter[str] = Counter()
    edges = []
    for page in pages:
        lines = [line.strip() for line in page.split("\n") if line.strip()]
        edge = {re.sub(r"\d+", "#", line.lower()) for line in lines[:2] + lines[-2:] if len(line) < 80}
        edges.append(edge)
        keys.update(edge)
    repeated = {key for key, n in keys.items() if n >= max(3, 0.3 * len(pages))}
    heads = sum(len(edge & repeated) for edge in edges)
    return {"lig": lig, "hyph": hyph, "heads": heads}


def timed(fn: Callable[..., object], *args: object) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


# ---------------------------------------------------------------- PDF


def pdf_rag(path: Path, max_pages: int | None) -> list[str]:
    doc = read_document(path.read_bytes(), path, LIMITS)
    pages: list[list[str]] = [[] for _ in range(doc.pages or 1)]
    for block in doc.blocks:
        pages[(block.page or 1) - 1].append(block.text)
    return ["\n".join(p) for p in pages]


def pdf_pdfium(path: Path, max_pages: int | None) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path.read_bytes())
    out = []
    for i in range(len(pdf) if max_pages is None else min(len(pdf), max_pages)):
        page = pdf[i]
        out.append(page.get_textpage().get_text_range().replace("\r\n", "\n"))
        page.close()
    pdf.close()
    return out


def pdf_pypdf(path: Path, max_pages: int | None) -> list[str]:
    import pypdf

    reader = pypdf.PdfReader(path)
    pages = reader.pages if max_pages is None else reader.pages[:max_pages]
    return [page.extract_text() or "" for page in pages]


def pdf_plumber(path: Path, max_pages: int | None) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        pages = pdf.pages if max_pages is None else pdf.pages[:max_pages]
        return [page.extract_text() or "" for page in pages]


def bench_pdf(files: list[Path], plumber_pages: int) -> None:
    candidates: list[tuple[str, Callable[[Path, int | None], list[str]], int | None]] = [
        ("rag (pypdfium2)", pdf_rag, None),
        ("pypdfium2 raw text", pdf_pdfium, None),
        ("pypdf", pdf_pypdf, None),
        (f"pdfplumber ({plumber_pages} p/doc)", pdf_plumber, plumber_pages),
        (f"pypdfium2 raw ({plumber_pages} p/doc)", pdf_pdfium, plumber_pages),
    ]
    print(f"\n## PDF: {len(files)} files from {', '.join(f.name for f in files)}")
    header = f"{'library':>28} {'docs':>5} {'pages':>6} {'chars':>9} {'s':>7} {'pages/s':>8}"
    print(header + f" {'split/1k':>9} {'joined/1k':>9} {'lig':>5} {'hyph':>5} {'heads':>6}")
    speed: dict[str, float] = {}
    for name, fn, max_pages in candidates:
        if fn is not pdf_rag and not _has(fn):
            print(f"{name:>28}  (not installed)")
            continue
        all_pages: list[str] = []
        seconds = 0.0
        q: Counter[str] = Counter()
        for f in files:
            pages, dt = timed(fn, f, max_pages)
            seconds += dt
            assert isinstance(pages, list)
            all_pages.extend(pages)
            q.update(pdf_quality(pages))
        q.update(pdf_rates(all_pages))
        chars = sum(len(p) for p in all_pages)
        speed[name] = len(all_pages) / seconds
        print(
            f"{name:>28} {len(files):>5} {len(all_pages):>6} {chars:>9} {seconds:>7.2f} {speed[name]:>8.1f}"
            f" {q['split']:>9.2f} {q['joined']:>9.2f} {q['lig']:>5.0f} {q['hyph']:>5.0f} {q['heads']:>6.0f}"
        )
    base = "rag (pypdfium2)"
    for name, value in speed.items():
        if name != base:
            print(f"ratio: {base} pages/s / {name} = {speed[base] / value:.2f}x")
    raw = "pypdfium2 raw text"
    if raw in speed:
        print(f"ratio: pypdfium2 raw / pypdf = {speed[raw] / speed.get('pypdf', float('nan')):.1f}x")


def _has(fn: Callable[..., object]) -> bool:
    module = {"pdf_pypdf": "pypdf", "pdf_plumber": "pdfplumber", "docx2python_text": "docx2python"}.get(fn.__name__)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------- HTML


def html_rag(data: bytes, path: Path) -> str:
    return "\n".join(b.text for b in read_document(data, path, LIMITS).blocks)


def html_bs4(parser: str) -> Callable[[bytes, Path], str]:
    def run(data: bytes, path: Path) -> str:
        from bs4 import BeautifulSoup

        from rag.indexing.readers.html import decode_html

        soup = BeautifulSoup(decode_html(data), parser)
        for tag in soup(["script", "style", "noscript", "template"]):
            tag.decompose()
        return soup.get_text("\n")

    run.__name__ = f"bs4_{parser}"
    return run


def html_selectolax(data: bytes, path: Path) -> str:
    from selectolax.lexbor import LexborHTMLParser

    from rag.indexing.readers.html import decode_html

    tree = LexborHTMLParser(decode_html(data))
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    return tree.body.text(separator="\n") if tree.body is not None else ""


def bench_html(folder: Path) -> None:
    sites = sorted(p for p in folder.iterdir() if p.is_dir())
    files = {site.name: sorted(site.glob("*.htm*")) for site in sites}
    n = sum(len(v) for v in files.values())
    print(f"\n## HTML: {n} pages from {len(sites)} sites ({', '.join(f'{k} {len(v)}' for k, v in files.items())})")
    print("   (the baselines are whole-page text: parse, drop script/style, get_text)")
    candidates: list[tuple[str, Callable[[bytes, Path], str]]] = [
        ("rag (selectolax, main content)", html_rag),
        ("bs4 + lxml get_text", html_bs4("lxml")),
        ("bs4 + html.parser get_text", html_bs4("html.parser")),
        ("selectolax get_text", html_selectolax),
    ]
    print(f"{'library':>32} {'docs':>5} {'chars':>10} {'s':>7} {'docs/s':>8} {'boiler %':>9} {'script':>7}")
    speed: dict[str, float] = {}
    for name, fn in candidates:
        try:
            fn(b"<p>x</p>", Path("x.html"))
        except ImportError:
            print(f"{name:>32}  (not installed)")
            continue
        seconds, chars, boiler, script = 0.0, 0, 0, 0
        for _site, pages in files.items():
            texts = []
            for f in pages:
                data = f.read_bytes()
                text, dt = timed(fn, data, f)
                seconds += dt
                texts.append(str(text))
            lines: Counter[str] = Counter()
            for text in texts:
                lines.update({line.strip() for line in text.split("\n") if line.strip()})
            common = {line for line, k in lines.items() if k >= max(3, 0.3 * len(texts))}
            for text in texts:
                chars += len(text)
                boiler += sum(len(line.strip()) for line in text.split("\n") if line.strip() in common)
                script += bool(SCRIPT.search(text))
        speed[name] = n / seconds
        share = 100 * boiler / max(chars, 1)
        print(f"{name:>32} {n:>5} {chars:>10} {seconds:>7.2f} {speed[name]:>8.1f} {share:>9.1f} {script:>7}")
    base = "rag (selectolax, main content)"
    for name, value in speed.items():
        if name != base:
            print(f"ratio: {base} docs/s / {name} = {speed[base] / value:.2f}x")
    if "bs4 + lxml get_text" in speed and "bs4 + html.parser get_text" in speed:
        backends = speed["bs4 + lxml get_text"] / speed["bs4 + html.parser get_text"]
        print(f"ratio: lxml / html.parser backend = {backends:.2f}x")


# ---------------------------------------------------------------- DOCX, EPUB, text


def docx2python_text(path: Path) -> str:
    from docx2python import docx2python

    with docx2python(path) as content:
        return str(content.text)


def bench_simple(title: str, files: list[Path], others: list[tuple[str, Callable[[Path], str]]]) -> None:
    print(f"\n## {title}: {len(files)} files")
    print(
        f"{'library':>28} {'docs':>5} {'blocks':>7} {'headings':>9} {'chars':>9} {'s':>7} {'docs/s':>8} {'markup':>7}"
    )
    speed: dict[str, float] = {}
    seconds, chars, blocks, headings, markup, failed = 0.0, 0, 0, 0, 0, 0
    for f in files:
        data = f.read_bytes()
        try:
            doc, dt = timed(read_document, data, f, LIMITS)
        except ReaderError as exc:
            failed += 1
            print(f"   {f.name}: {exc}")
            continue
        seconds += dt
        blocks += len(doc.blocks)  # type: ignore[attr-defined]
        headings += sum(b.kind == "heading" for b in doc.blocks)  # type: ignore[attr-defined]
        text = "\n".join(b.text for b in doc.blocks if b.kind != "code")  # type: ignore[attr-defined]
        chars += len(text)
        markup += len(re.findall(r":\w+:`|``|\*\*|\]\(|^#+ ", text, re.M))
    speed["rag"] = len(files) / seconds
    rate = speed["rag"]
    print(f"{'rag':>28} {len(files):>5} {blocks:>7} {headings:>9} {chars:>9} {seconds:>7.2f} {rate:>8.1f} {markup:>7}")
    for name, fn in others:
        if not _has(fn):
            print(f"{name:>28}  (not installed)")
            continue
        seconds, chars, markup = 0.0, 0, 0
        for f in files:
            out, dt = timed(fn, f)
            seconds += dt
            chars += len(str(out))
            markup += len(re.findall(r":\w+:`|``|\*\*|\]\(|^#+ ", str(out), re.M))
        speed[name] = len(files) / seconds
        print(f"{name:>28} {len(files):>5} {'':>7} {'':>9} {chars:>9} {seconds:>7.2f} {speed[name]:>8.1f} {markup:>7}")
    for name, value in speed.items():
        if name != "rag":
            print(f"ratio: rag docs/s / {name} = {speed['rag'] / value:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="the corpus (pdf/, html/<site>/, docx/, epub/, text/)")
    ap.add_argument("--make-corpus", type=Path, help="build the corpus in this folder and stop")
    ap.add_argument("--per-site", type=int, default=60, help="HTML pages per site when making the corpus")
    ap.add_argument("--plumber-pages", type=int, default=40, help="pages per PDF for pdfplumber (slow)")
    args = ap.parse_args()
    if args.make_corpus:
        make_corpus(args.make_corpus, args.per_site)
        return
    if not args.dir:
        ap.error("pass --dir (a corpus made with --make-corpus)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    print(f"# bench_readers: {machine}, load average {load} at the start")
    versions = []
    for dist in (
        "pypdfium2",
        "pypdf",
        "pdfplumber",
        "beautifulsoup4",
        "lxml",
        "selectolax",
        "python-docx",
        "docx2python",
    ):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} (absent)")
    print("# " + ", ".join(versions))
    warnings.simplefilter("ignore")  # bs4's "XML parsed as HTML" in the baselines
    if (args.dir / "pdf").is_dir():
        bench_pdf(sorted((args.dir / "pdf").glob("*.pdf")), args.plumber_pages)
    if (args.dir / "html").is_dir():
        bench_html(args.dir / "html")
    if (args.dir / "docx").is_dir():
        bench_simple("DOCX", sorted((args.dir / "docx").glob("*.docx")), [("docx2python text", docx2python_text)])
    if (args.dir / "epub").is_dir():
        bench_simple("EPUB", sorted((args.dir / "epub").glob("*.epub")), [])
    if (args.dir / "text").is_dir():
        files = sorted(p for p in (args.dir / "text").iterdir() if p.is_file())

        def decoded(path: Path) -> str:
            return path.read_bytes().decode("utf-8", "replace")

        bench_simple("text (reST sources, AsciiDoc .txt, Markdown)", files, [("bytes.decode (no parsing)", decoded)])


if __name__ == "__main__":
    main()
