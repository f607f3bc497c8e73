"""One index over a folder of PDF, HTML, DOCX and Markdown; each cited source links to its
original at its place, served only from the index's manifest; and in a real browser the link
opens the PDF at its page. Real packaged models (MiniLM, the tiny SmolLM2); real files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from indexing.readers.makers import Bookmark, Text, make_pdf

from rag.indexing.store import build_index, load_index
from rag.pipeline import Pipeline, PipelineConfig
from rag.serve.app import create_app
from rag.serve.state import ServeConfig, Server
from serve.live import NO_BROWSER, chromium, running

TINY = "smollm2-135m"
CONFIG = PipelineConfig(attribution_judge=f"llm:{TINY}")
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "documents"
QUESTION = "How tall is the Eiffel Tower?"

PAGES = [
    [Text(72, 780, "Towers of Paris", "F2", 16), Text(72, 740, "This guide describes the towers of Paris.")],
    [
        Text(72, 780, "The Eiffel Tower", "F2", 14),
        Text(72, 740, "The Eiffel Tower is 330 metres tall since the new antenna was added in 2022."),
        Text(72, 720, "It was built by Gustave Eiffel's company for the World's Fair of 1889."),
    ],
    [Text(72, 780, "Montparnasse", "F2", 14), Text(72, 740, "The Montparnasse Tower is 210 metres tall.")],
]
OUTLINE = (Bookmark("Towers of Paris", 0), Bookmark("The Eiffel Tower", 1), Bookmark("Montparnasse", 2))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("links")
    docs = root / "docs"
    docs.mkdir()
    (docs / "towers.pdf").write_bytes(make_pdf(PAGES, OUTLINE))
    for name in ("sphinx-overview.html", "bees.docx", "bees.md"):
        shutil.copy(FIXTURES / name, docs / name)
    build_index([docs], root / "indexes" / "mixed", device="cpu", show_progress=False)
    return root / "indexes"


def test_one_index_over_mixed_formats_knows_where_each_passage_is(home: Path) -> None:
    index = load_index(home / "mixed")
    names = sorted(Path(s["path"]).name for s in index.manifest["sources"])
    assert names == ["bees.docx", "bees.md", "sphinx-overview.html", "towers.pdf"]
    eiffel = [p for p in index.passages if "330 metres" in p.text]
    assert len(eiffel) == 1 and eiffel[0].location is not None
    assert eiffel[0].location.pages == (2, 2)
    assert eiffel[0].location.label() == "towers.pdf p. 2 › The Eiffel Tower"
    assert eiffel[0].title.endswith("› The Eiffel Tower")
    html = [p for p in index.passages if p.source.endswith(".html")]
    assert html and all(p.location is not None and p.location.pages is None for p in html)
    assert any(p.location and p.location.anchor for p in html)


@pytest.fixture(scope="module")
def live(home: Path) -> Iterator[str]:
    mp = pytest.MonkeyPatch()
    mp.setenv("RAG_INDEXES", str(home))
    pipeline = Pipeline.from_names(str(home / "mixed"), TINY, config=CONFIG, device="cpu")
    server = Server(ServeConfig(index="mixed", generator=TINY, pipeline=CONFIG), loader=lambda: pipeline)
    with running(create_app(server)) as url:
        yield url
    mp.undo()


def test_sources_link_to_the_original_at_its_page(live: str) -> None:
    with httpx.Client(base_url=live, timeout=300) as c:
        answer = c.post("/ask", json={"question": QUESTION}).json()
        cited = {cite["number"] for cite in answer["citations"]}
        assert cited
        for n in cited:
            passage = answer["passages"][n - 1]["passage"]
            assert passage["label"] and passage["link"].startswith("/source/mixed/")
            if passage["source"].endswith(".pdf"):
                assert passage["link"].endswith(f"#page={passage['location']['pages'][0]}")
        pdf = next(p["passage"] for p in answer["passages"] if p["passage"]["source"].endswith(".pdf"))
        got = c.get(pdf.get("link") or "/source/mixed/0")
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert got.content[:5] == b"%PDF-" and "sandbox" in got.headers["content-security-policy"]
        # only files of the manifest, by number: nothing else can be asked for
        assert c.get("/source/mixed/99").status_code == 404
        assert c.get("/source/mixed/..%2f..%2fetc%2fpasswd").status_code in (404, 422)
        assert c.get("/source/nothing/0").status_code == 404


@pytest.mark.skipif(chromium() is None, reason=NO_BROWSER)
def test_the_pages_link_opens_the_pdf_at_its_page(live: str) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser, driver_path = chromium()  # type: ignore[misc]
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(live + "/")
        driver.find_element(By.ID, "question").send_keys(QUESTION, Keys.ENTER)
        wait = WebDriverWait(driver, 300)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources a.where")))
        links = [
            a for a in driver.find_elements(By.CSS_SELECTOR, "#sources a.where") if "#page=" in a.get_attribute("href")
        ]
        assert links, "no cited PDF source with a page link"
        link = links[0]
        href = link.get_attribute("href")
        assert link.text.startswith("towers.pdf p. ")
        page = link.text.split("p. ", 1)[1].split()[0]
        assert href.startswith(live + "/source/mixed/") and href.endswith(f"#page={page}")
        before = set(driver.window_handles)
        link.click()  # opens in a new tab
        wait.until(lambda d: len(d.window_handles) > len(before))
        driver.switch_to.window((set(driver.window_handles) - before).pop())
        wait.until(lambda d: d.current_url.startswith(live + "/source/"))
        assert driver.current_url == href  # the PDF, opened at that page
    finally:
        driver.quit()
