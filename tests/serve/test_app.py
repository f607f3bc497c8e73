"""rag.serve (``rag serve``): the API through FastAPI's test client and a real uvicorn server on
127.0.0.1, the gate that admits, queues and cancels questions, the page in a real headless browser
(Debian's chromium + chromedriver, through selenium), and a bounded load test. The models are the
real packaged ones: MiniLM for the index and the tiny SmolLM2 as generator and attribution judge
(it invents facts; what is tested is the plumbing).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import DOCS, write_docs
from fastapi.testclient import TestClient

from rag.indexing.store import build_index
from rag.pipeline import MAX_QUESTION_CHARS, Pipeline, PipelineConfig
from rag.serve.app import create_app
from rag.serve.state import Cancelled, QueueFull, ServeConfig, Server
from serve.live import NO_BROWSER, chromium, free_port, running

TINY = "smollm2-135m"
# the defaults, with the tiny model as attribution judge too (the 0.5B would only be slower)
CONFIG = PipelineConfig(attribution_judge=f"llm:{TINY}")
QUESTION = "Where was tea first drunk?"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index home with the index ``docs``, a second index ``bees`` and a folder that is not an index."""
    root = tmp_path_factory.mktemp("serve")
    docs = write_docs(root / "docs", DOCS)
    build_index([docs], root / "indexes" / "docs", device="cpu", show_progress=False)
    build_index([docs / "bees.txt"], root / "indexes" / "bees", device="cpu", show_progress=False)
    (root / "indexes" / "notes").mkdir()
    return root / "indexes"


@pytest.fixture(scope="module")
def pipeline(home: Path) -> Pipeline:
    return Pipeline.from_names(str(home / "docs"), TINY, config=CONFIG, device="cpu")


#: FastAPI's test client sends ``Host: testserver``: a name the server must be told to answer.
TEST_HOST = ("testserver",)


def make_server(pipeline: Pipeline, **kwargs: object) -> Server:
    config = ServeConfig(index="docs", generator=TINY, pipeline=CONFIG, allowed_hosts=TEST_HOST, **kwargs)  # type: ignore[arg-type]
    return Server(config, loader=lambda: pipeline)


@pytest.fixture
def client(pipeline: Pipeline, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("RAG_INDEXES", str(home))
    server = make_server(pipeline)
    with TestClient(create_app(server)) as c:
        wait_ready(c)
        yield c


def wait_ready(c: TestClient, timeout: float = 120, headers: dict[str, str] | None = None) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        r = c.get("/health", headers=headers)
        if r.status_code == 200:
            return r.json()
        assert r.status_code == 503 and r.json()["status"] in ("loading", "failed"), r.text
        assert r.json()["status"] != "failed", r.text
        assert time.monotonic() < deadline
        time.sleep(0.05)


def sse_events(text: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


# ---------------------------------------------------------------- the API


def test_health_is_503_until_the_models_are_loaded(pipeline: Pipeline, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_INDEXES", str(home))
    release = threading.Event()

    def slow_loader() -> Pipeline:
        release.wait(30)
        return pipeline

    server = Server(ServeConfig(index="docs", pipeline=CONFIG, allowed_hosts=TEST_HOST), loader=slow_loader)
    with TestClient(create_app(server)) as c:
        r = c.get("/health")
        assert r.status_code == 503 and r.json()["status"] == "loading" and r.headers["Retry-After"] == "5"
        r = c.post("/ask", json={"question": QUESTION})
        assert r.status_code == 503 and r.json() == {"detail": "the models are loading"}
        release.set()
        state = wait_ready(c)
        assert state["status"] == "ready" and state["index"] == "docs" and state["generator"] == TINY


def test_ask_returns_what_rag_ask_json_prints(client: TestClient, pipeline: Pipeline) -> None:
    r = client.post("/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    body = r.json()
    # the same answer, each passage with its label and link to the original added
    direct = Server.with_links(pipeline, pipeline.ask(QUESTION).to_dict())
    assert all("label" in p["passage"] for p in body["passages"])
    assert set(body) == set(direct)
    timings = ("timings",)
    assert {k: v for k, v in body.items() if k not in timings} == {k: v for k, v in direct.items() if k not in timings}


def test_the_stream_sends_tokens_before_the_final_answer(client: TestClient) -> None:
    with client.stream("POST", "/ask/stream", json={"question": QUESTION}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = sse_events(text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1
    assert kinds[:-1] and set(kinds[:-1]) == {"token"}  # tokens first, as they were generated
    final = events[-1][1]
    plain = client.post("/ask", json={"question": QUESTION}).json()
    assert final["answer"] == plain["answer"] and final["statements"] == plain["statements"]


def test_options_k_and_other_indexes(client: TestClient) -> None:
    r = client.post("/ask", json={"question": QUESTION, "k": 2, "options": {"prompt": "quote"}})
    assert r.status_code == 200 and len(r.json()["passages"]) == 2
    r = client.post("/ask", json={"question": "How do honeybees live?", "index": "bees", "k": 3})
    assert r.status_code == 200 and [p["passage"]["id"] for p in r.json()["passages"]] == ["bees.txt"]
    listed = client.get("/indexes").json()["indexes"]
    assert [(i["name"], i["passages"], i["default"]) for i in listed] == [("bees", 1, False), ("docs", 3, True)]
    assert all(i["loaded"] for i in listed)  # bees was loaded by the request above


@pytest.mark.parametrize(
    "body,detail",
    [
        ({"question": ""}, "String should have at least 1 character"),
        ({"question": "   "}, "the question is empty"),
        ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, f"at most {MAX_QUESTION_CHARS} characters"),
        ({"question": QUESTION, "k": 0}, "greater than or equal to 1"),
        ({"question": QUESTION, "k": 21}, "k must be at most 20 on this server, got 21"),
        ({"question": QUESTION, "index": "../../etc"}, "String should match pattern"),
        ({"question": QUESTION, "index": "notes"}, "unknown index 'notes'; known: bees, docs"),
        ({"question": QUESTION, "options": {"colour": "red"}}, "unknown pipeline setting(s) colour"),
        ({"question": QUESTION, "options": {"attribution_judge": "llm"}}, "cannot be changed per request"),
        ({"question": QUESTION, "options": {"prompt": "poem"}}, "unknown prompt 'poem'"),
    ],
)
def test_bad_requests_are_422_with_a_clear_message(client: TestClient, body: dict[str, object], detail: str) -> None:
    for path in ("/ask", "/ask/stream"):
        r = client.post(path, json=body)
        assert r.status_code == 422, r.text
        assert detail in json.dumps(r.json()["detail"])


def test_the_token_is_required_everywhere_when_set(pipeline: Pipeline, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_INDEXES", str(home))
    with TestClient(create_app(make_server(pipeline, token="s3cret-token"))) as c:
        for method, path in (("GET", "/health"), ("GET", "/indexes"), ("GET", "/"), ("POST", "/ask")):
            r = c.request(method, path, json={"question": QUESTION} if method == "POST" else None)
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", path
        assert c.get("/health", headers={"Authorization": "Bearer wrong-token!"}).status_code == 401
        ok = {"Authorization": "Bearer s3cret-token"}
        assert wait_ready(c, headers=ok)["status"] == "ready"
        assert c.post("/ask", json={"question": QUESTION}, headers=ok).status_code == 200
        assert c.get("/?token=s3cret-token").status_code == 200  # the page: a browser cannot send headers
        assert c.get("/indexes?token=s3cret-token").status_code == 401  # the API only by header


def test_a_full_queue_is_503_with_retry_after(client: TestClient) -> None:
    app_server: Server = client.app.state.server  # type: ignore[attr-defined]
    held = [app_server.admit() for _ in range(app_server.config.queue + 1)]  # every slot taken
    assert len(held) == 5
    r = client.post("/ask", json={"question": QUESTION})
    assert r.status_code == 503 and r.headers["Retry-After"] == "5" and "queue is full" in r.json()["detail"]
    assert client.post("/ask/stream", json={"question": QUESTION}).status_code == 503
    for _ in held:  # give the slots back the way a cancelled request does
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(Cancelled):
            app_server.answer(None, QUESTION, cancel)  # type: ignore[arg-type]
    assert client.post("/ask", json={"question": QUESTION}).status_code == 200


# ---------------------------------------------------------------- the gate (pure logic)


class _Slow:
    """Stands in for a pipeline: streams pieces until told to stop."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.pieces = 0

    def ask(self, question: str, on_token=None):  # noqa: ANN001, ANN201
        self.started.set()
        while True:
            time.sleep(0.01)
            self.pieces += 1
            on_token("x")


def test_a_cancelled_question_frees_its_slot_and_the_model(pipeline: Pipeline) -> None:
    server = make_server(pipeline, queue=1)
    server.load()
    slow, waiting = _Slow(), _Slow()
    server.admit()
    server.admit()
    with pytest.raises(QueueFull):
        server.admit()
    cancel_a, cancel_b = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(server.answer, slow, "q", cancel_a)  # type: ignore[arg-type]
        assert slow.started.wait(5)
        b = pool.submit(server.answer, waiting, "q", cancel_b)  # type: ignore[arg-type]
        time.sleep(0.2)
        assert not waiting.started.is_set()  # one at a time: b waits for the model
        cancel_b.set()  # b's client goes away while it waits
        with pytest.raises(Cancelled):
            b.result(5)
        cancel_a.set()  # a's client goes away while it generates
        with pytest.raises(Cancelled):
            a.result(5)
    assert server.health()["busy"] == 0 and not waiting.started.is_set()
    assert server.health()["cancelled"] == 2
    server.admit()  # the slots are free again


# ---------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def live(pipeline: Pipeline, home: Path) -> Iterator[str]:
    """uvicorn serving the app on 127.0.0.1 in a thread; yields its base URL."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RAG_INDEXES", str(home))
    with running(create_app(make_server(pipeline)), ready_within=60) as url:
        yield url
    mp.undo()


def test_load_test_loses_nothing(live: str) -> None:
    """8 clients x 10 requests at once: each gets a 200 or a 503, none is lost, and the server
    still answers afterwards."""

    def client(i: int) -> list[int]:
        codes = []
        with httpx.Client(base_url=live, timeout=300) as c:
            for j in range(10):
                question = f"{QUESTION} ({i}.{j})"
                r = c.post("/ask", json={"question": question, "options": {"evidence": {"quote_words": 0}}})
                codes.append(r.status_code)
                if r.status_code == 200:
                    assert r.json()["question"] == question
                else:
                    assert r.status_code == 503 and r.headers["Retry-After"] == "5", (r.status_code, r.text)
        return codes

    with ThreadPoolExecutor(8) as pool:
        codes = [c for result in pool.map(client, range(8)) for c in result]
    assert len(codes) == 80 and set(codes) <= {200, 503} and 200 in codes
    with httpx.Client(base_url=live, timeout=300) as c:
        assert c.get("/health").json()["busy"] == 0
        assert c.post("/ask", json={"question": QUESTION}).status_code == 200


def test_a_client_that_goes_away_frees_its_slot(live: str) -> None:
    """Close the connection after the first token: the server stops generating and its slot is free."""
    long = {"question": QUESTION, "options": {"prompt": "default", "generation": {"max_tokens": 300}}}
    with httpx.Client(base_url=live, timeout=120) as c:
        before = c.get("/health").json()["cancelled"]
        with c.stream("POST", "/ask/stream", json=long) as r:
            for line in r.iter_lines():
                if line.startswith("event: token"):
                    break  # leaving the block closes the connection mid-answer
        deadline = time.monotonic() + 30
        while c.get("/health").json()["busy"] != 0:
            assert time.monotonic() < deadline, "the slot of the closed request was never freed"
            time.sleep(0.05)
        assert c.get("/health").json()["cancelled"] == before + 1  # stopped, not run to its end
        assert c.post("/ask", json={"question": QUESTION}).status_code == 200


@pytest.mark.skipif(chromium() is None, reason=NO_BROWSER)
def test_the_page_in_a_real_browser(live: str) -> None:
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
        box = driver.find_element(By.ID, "question")
        assert driver.switch_to.active_element == box  # focused: type straight away
        box.send_keys(QUESTION, Keys.ENTER)  # the keyboard alone asks
        wait = WebDriverWait(driver, 180)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#answer .statement .cite")))
        statements = driver.find_elements(By.CSS_SELECTOR, "#answer .statement")
        assert statements and all(s.text for s in statements)
        marked = [s for s in statements if s.find_elements(By.CSS_SELECTOR, ".verdict")]
        assert marked  # supported / unsupported shown beside the sentences
        cite = driver.find_element(By.CSS_SELECTOR, "#answer .statement .cite")
        cite.send_keys(Keys.ENTER)  # keyboard: the marker is a button
        panel = wait.until(ec.visibility_of_element_located((By.ID, "passage")))
        assert cite.get_attribute("aria-expanded") == "true"
        highlighted = panel.find_elements(By.TAG_NAME, "mark")
        assert highlighted and highlighted[0].text.strip()
        assert highlighted[0].text.strip() in panel.find_element(By.ID, "passage-text").text
        assert driver.find_elements(By.CSS_SELECTOR, "#sources li")
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait.until(ec.invisibility_of_element_located((By.ID, "passage")))
        # a word no indexed document holds is named under the answer
        box = driver.find_element(By.ID, "question")
        box.clear()
        box.send_keys("How much caffeine is in matcha?", Keys.ENTER)
        wait.until(ec.text_to_be_present_in_element((By.ID, "answer"), "No indexed document mentions: matcha."))
    finally:
        driver.quit()


def test_rag_serve_starts_logs_what_it_loaded_and_stops(home: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    port = free_port()
    log = tmp_path / "serve.log"
    args = [
        "serve",
        "--index",
        "docs",
        "--generator",
        TINY,
        "--set",
        f"attribution_judge=llm:{TINY}",
        "--port",
        str(port),
    ]
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from rag.cli import main; main()", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "RAG_INDEXES": str(home)},
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if c.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert c.get("/").status_code == 200 and "Ask your documents" in c.get("/").text
    finally:
        proc.terminate()
        assert proc.wait(30) is not None
    text = log.read_text()
    assert f"the page will be at http://127.0.0.1:{port}/" in text
    assert f"loaded index docs (3 passages), generator {TINY}, attribution judge llm:{TINY} in" in text


def test_rag_serve_refuses_a_missing_index_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("RAG_INDEXES", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--index", "nope"])
    assert result.exit_code == 1
    assert f"error: no index at {tmp_path / 'nope'}: build one with `rag index PATH... --name nope`" in result.output
