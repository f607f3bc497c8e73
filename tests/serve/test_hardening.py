"""``rag serve`` against hostile and unlucky clients, on a real uvicorn server on 127.0.0.1 (and
FastAPI's test client for the property test): the Host rule (DNS rebinding), the security
headers, clients that go away (their slot is freed at once), the caps on what a request may ask
for, the body limit, errors that never echo the input, and any JSON body gives 2xx or 4xx.

No model is loaded: the pipeline is a scripted generator over a fake index (``conftest``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import MODEL_CITES, FakeIndex, RuleJudge, ScriptedGenerator
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rag.cli import app as cli_app
from rag.config import PipelineConfig
from rag.generation import GenerationConfig
from rag.pipeline import Pipeline
from rag.serve.app import create_app
from rag.serve.guard import host_name, page_csp
from rag.serve.state import DEFAULT_LIMITS, ServeConfig, Server
from rag.types import Passage
from serve.live import running

QUESTION = "Where was tea first drunk?"
ANSWER = "Tea was first drunk in China [1]."
CONFIG = PipelineConfig(**MODEL_CITES)


class SlowGenerator(ScriptedGenerator):
    """Writes a word every 20 ms until ``max_tokens``: a question that takes long to answer."""

    def stream(self, messages: Any, config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        for _ in range(config.max_tokens):
            time.sleep(0.02)
            yield " tea"


class NamedIndex(FakeIndex):
    """A fake index with what the server reads of a real one: its path, manifest and size."""

    def __init__(self, path: Path, sources: list[dict[str, Any]]) -> None:
        passages = [
            Passage("tea.md", "Tea was first drunk in China, where legend credits the emperor Shennong.", "Tea"),
            Passage("coffee.md", "Coffee was first drunk in Yemen in the fifteenth century.", "Coffee"),
            Passage("bees.txt", "Honeybees live in colonies with one queen and thousands of workers.", "Bees"),
        ]
        super().__init__(passages, bm25=[0, 1, 2], dense=[0, 1, 2])
        self.path = path
        self.manifest = {"sources": sources}
        self.device = "cpu"

    def __len__(self) -> int:
        return len(self.passages)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty index home (requests may name only indexes there) and a source file ``page.html``."""
    root = tmp_path_factory.mktemp("hardening")
    (root / "indexes").mkdir()
    (root / "page.html").write_text("<p>Tea was first drunk in China.</p><script>alert(1)</script>", encoding="utf-8")
    return root


def fake_pipeline(home: Path, generator: ScriptedGenerator | None = None) -> Pipeline:
    sources = [{"path": str(home / "page.html"), "documents": ["tea.md"]}]
    index = NamedIndex(home / "indexes" / "tea", sources)
    gen = generator or ScriptedGenerator(ANSWER)
    return Pipeline(gen, index, CONFIG, attribution_judge=RuleJudge("words"))


def make_server(pipe: Pipeline, **kwargs: Any) -> Server:
    return Server(ServeConfig(index="tea", pipeline=CONFIG, **kwargs), loader=lambda: pipe)


@pytest.fixture(scope="module")
def serve(home: Path) -> Iterator[Callable[..., str]]:
    """``serve(pipeline, **ServeConfig fields)``: uvicorn serving it on 127.0.0.1 in a thread,
    ready; returns its base URL. Every server is stopped when the module's tests are done."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RAG_INDEXES", str(home / "indexes"))
    started: list[AbstractContextManager[str]] = []

    def start(pipe: Pipeline, **kwargs: Any) -> str:
        served = running(create_app(make_server(pipe, **kwargs)), ready_within=30)
        url = served.__enter__()
        started.append(served)
        return url

    yield start
    for served in started:
        served.__exit__(None, None, None)
    mp.undo()


@pytest.fixture(scope="module")
def live(serve: Callable[..., str], home: Path) -> str:
    return serve(fake_pipeline(home), allowed_hosts=("rag.example",))


@pytest.fixture(scope="module")
def slow(serve: Callable[..., str], home: Path) -> str:
    return serve(fake_pipeline(home, SlowGenerator("")))


def send_raw(url: str, head: bytes, body: bytes = b"") -> socket.socket:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` on a new
    socket; the socket, unread."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head + b"\r\n\r\n" + body)
    return sock


def raw_request(url: str, head: bytes, body: bytes = b"") -> bytes:
    """The whole response to ``head`` and ``body`` sent as they are (see :func:`send_raw`)."""
    sock = send_raw(url, head, body)
    chunks = []
    try:
        while data := sock.recv(65536):
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    return b"".join(chunks)


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    match = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    return match is not None and len(body) >= int(match.group(1))


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _json(response: bytes) -> dict[str, Any]:
    return json.loads(response.partition(b"\r\n\r\n")[2])


def _busy(url: str) -> int:
    return int(httpx.get(f"{url}/health").json()["busy"])


# ---------------------------------------------------------------- the Host rule


def test_host_names(home: Path) -> None:
    assert [host_name(h) for h in ("127.0.0.1:8000", "[::1]:80", "LOCALHOST", "localhost.", "a.b:1")] == [
        "127.0.0.1",
        "::1",
        "localhost",
        "localhost",
        "a.b",
    ]


def test_a_rebound_name_is_421_and_reads_nothing(live: str) -> None:
    """DNS rebinding: a page on another origin, its name rebound to 127.0.0.1, sends its own Host."""
    port = live.rsplit(":", 1)[1]
    body = {"question": QUESTION}
    for host in ("rebind.attacker.example", f"rebind.attacker.example:{port}", "127.0.0.2", "localhost.evil"):
        for method, path in (("POST", "/ask"), ("POST", "/ask/stream"), ("GET", "/indexes"), ("GET", "/")):
            r = httpx.request(method, f"{live}{path}", json=body if method == "POST" else None, headers={"Host": host})
            assert r.status_code == 421, (host, path, r.text)
            assert list(r.json()) == ["detail"] and "\n" not in r.json()["detail"]
            assert "Tea" not in r.text and "passages" not in r.text
    allowed = ("127.0.0.1", f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "rag.example", "RAG.example:1")
    for host in allowed:
        r = httpx.post(f"{live}/ask", json=body, headers={"Host": host})
        assert r.status_code == 200, (host, r.text)
        assert r.json()["passages"]
    # no Host at all (HTTP/1.0) is not one of them either
    response = raw_request(live, b"GET /health HTTP/1.0")
    assert _status(response) == 421


def test_the_bound_host_is_answered(serve: Callable[..., str], home: Path) -> None:
    url = serve(fake_pipeline(home), host="rag.local")
    assert httpx.get(f"{url}/health", headers={"Host": "rag.local:8000"}).status_code == 200
    assert httpx.get(f"{url}/health", headers={"Host": "other.local"}).status_code == 421


# ---------------------------------------------------------------- the headers


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_every_response_carries_the_security_headers(live: str) -> None:
    responses = {
        "page": httpx.get(f"{live}/"),
        "health": httpx.get(f"{live}/health"),
        "ask": httpx.post(f"{live}/ask", json={"question": QUESTION}),
        "bad": httpx.post(f"{live}/ask", json={"question": ""}),
        "missing": httpx.get(f"{live}/no/such/page"),
        "source": httpx.get(f"{live}/source/tea/0"),
        "docs": httpx.get(f"{live}/docs"),
        "rebound": httpx.get(f"{live}/health", headers={"Host": "evil.example"}),
    }
    for name, r in responses.items():
        assert r.headers["X-Content-Type-Options"] == "nosniff", name
        assert r.headers["Referrer-Policy"] == "no-referrer", name
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], name
    assert responses["health"].headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_the_page_runs_only_its_own_script(live: str) -> None:
    r = httpx.get(f"{live}/")
    assert r.status_code == 200
    csp = dict(part.strip().split(" ", 1) for part in r.headers["Content-Security-Policy"].split(";"))
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    assert scripts and csp["script-src"] == " ".join(_sha256(s) for s in scripts)  # by hash, nothing inline else
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]
    assert csp["default-src"] == "'none'" and csp["connect-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert page_csp("<p>no script</p>").startswith("default-src 'none'; script-src 'none';")
    docs = httpx.get(f"{live}/docs")
    assert docs.status_code == 200 and "https://cdn.jsdelivr.net" in docs.headers["Content-Security-Policy"]


def test_a_source_file_keeps_its_sandbox(live: str) -> None:
    r = httpx.get(f"{live}/source/tea/0")
    assert r.status_code == 200 and "<script>" in r.text
    policy = [p.strip() for p in r.headers["Content-Security-Policy"].split(";")]
    assert policy == ["sandbox", "frame-ancestors 'none'"]  # its own policy kept, not the page's


# ---------------------------------------------------------------- clients that go away


def _abandon(url: str, path: str, n: int) -> None:
    body = json.dumps({"question": QUESTION, "options": {"generation": {"max_tokens": 1000}}}).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    socks = [send_raw(url, head.encode(), body) for _ in range(n)]
    deadline = time.monotonic() + 10
    while _busy(url) < n:  # all admitted: one generates, the others wait for the generator
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for sock in socks:
        sock.close()


@pytest.mark.parametrize("path", ["/ask", "/ask/stream"])
def test_abandoned_questions_free_their_slots_at_once(slow: str, path: str) -> None:
    """5 clients ask a question that takes 20 s and close their sockets: every slot is free
    within a second (the one generating stops, those waiting are dropped), nothing is lost."""
    before = httpx.get(f"{slow}/health").json()["cancelled"]
    _abandon(slow, path, 5)
    t0 = time.monotonic()
    while _busy(slow):
        assert time.monotonic() - t0 < 2, f"the slots of abandoned {path} requests were not freed"
        time.sleep(0.02)
    assert httpx.get(f"{slow}/health").json()["cancelled"] == before + 5
    r = httpx.post(f"{slow}/ask", json={"question": QUESTION, "options": {"generation": {"max_tokens": 3}}})
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- caps


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"k": 21}, "k must be at most 20 on this server, got 21"),
        ({"generation": {"max_tokens": 1025}}, "generation.max_tokens must be at most 1024 on this server"),
        ({"retrieval": {"bm25_depth": 101}}, "retrieval.bm25_depth must be at most 100"),
        ({"retrieval": {"dense_depth": 10**6}}, "retrieval.dense_depth must be at most 100"),
        ({"evidence": {"max_sentences": 33}}, "evidence.max_sentences must be at most 32"),
        ({"evidence": {"reader_sentences": 1000}}, "evidence.reader_sentences must be at most 32"),
        ({"attribution": {"candidates": 11, "max_set": 2}}, "attribution.candidates must be at most 10"),
        ({"attribution": {"candidates": 10, "max_set": 4}}, "attribution.max_set must be at most 3"),
        ({"generation": {"grammar": 'root ::= "a"'}}, "generation.grammar cannot be changed per request"),
        ({"attribution_judge": "llm"}, "attribution_judge cannot be changed per request"),
        ({"generation": {"stop": ["x"] * 17}}, "generation.stop has more than 16 items"),
    ],
)
def test_requests_are_capped(live: str, options: dict[str, Any], detail: str) -> None:
    for path in ("/ask", "/ask/stream"):
        r = httpx.post(f"{live}{path}", json={"question": QUESTION, "options": options})
        assert r.status_code == 422, r.text
        assert detail in r.json()["detail"]
    assert httpx.post(f"{live}/ask", json={"question": QUESTION, "k": 30}).status_code == 422


def test_the_caps_allow_what_they_allow_and_the_cli_raises_them(serve: Callable[..., str], home: Path) -> None:
    at_caps = {
        "k": 20,
        "generation": {"max_tokens": 1024},
        "retrieval": {"bm25_depth": 100, "dense_depth": 100},
        "attribution": {"candidates": 10, "max_set": 3},
        "evidence": {"max_sentences": 32, "per_passage": 32},
    }
    with httpx.Client(base_url=serve(fake_pipeline(home))) as c:
        assert c.post("/ask", json={"question": QUESTION, "options": at_caps}).status_code == 200
    limits = {**DEFAULT_LIMITS, "retrieval.bm25_depth": 500}
    raised = serve(fake_pipeline(home), max_k=50, max_tokens=4000, limits=limits)
    more = {"k": 50, "generation": {"max_tokens": 4000}, "retrieval": {"bm25_depth": 500}}
    assert httpx.post(f"{raised}/ask", json={"question": QUESTION, "options": more}).status_code == 200
    # and the command line refuses a limit it does not know, before anything loads
    result = CliRunner().invoke(cli_app, ["serve", "--max", "generation.temperature=5"])
    assert result.exit_code == 1 and "--max takes KEY=N" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- the body limit and error messages


def test_a_large_body_is_413_before_it_is_read(live: str) -> None:
    head = b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000"
    t0 = time.monotonic()
    response = raw_request(live, head, b'{"question": "' + b"x" * 1000)  # the rest never comes
    assert _status(response) == 413 and time.monotonic() - t0 < 5
    limit = "the request body is over the limit of 64 KB (rag serve --max-body-kb raises it)"
    assert _json(response) == {"detail": limit}


def test_a_large_chunked_body_is_413(live: str) -> None:
    head = b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
    chunk = b"x" * 16384
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"  # 80 KB, no length
    response = raw_request(live, head, body)
    assert _status(response) == 413 and "64 KB" in _json(response)["detail"]
    small = json.dumps({"question": QUESTION}).encode()
    response = raw_request(live, head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small))
    assert _status(response) == 200


def test_the_body_limit_is_set_by_the_server(serve: Callable[..., str], home: Path) -> None:
    url = serve(fake_pipeline(home), max_body_kb=1)
    r = httpx.post(f"{url}/ask", json={"question": "x" * 1500})
    assert r.status_code == 413 and "limit of 1 KB" in r.json()["detail"]
    assert httpx.post(f"{url}/ask", json={"question": QUESTION}).status_code == 200


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"question": "x" * 60_000}, "question: String should have at most 2000 characters"),
        ({"question": ["x" * 30_000]}, "question: Input should be a valid string"),
        ({"question": QUESTION, "k": "x" * 30_000}, "k: Input should be a valid integer"),
        ({"question": QUESTION, "index": "x" * 30_000}, "index: String should match pattern"),
        ({"question": QUESTION, "options": "x" * 30_000}, "options: Input should be a valid dictionary"),
        ({"question": QUESTION, "options": {"prompt": "x" * 30_000}}, "prompt is longer than 200 characters"),
        ({"question": QUESTION, "options": {"x" * 30_000: 1}}, "unknown pipeline setting(s) xxxx"),
    ],
)
def test_errors_never_echo_the_input(live: str, body: dict[str, Any], detail: str) -> None:
    r = httpx.post(f"{live}/ask", json=body)
    assert r.status_code == 422, r.text
    assert list(r.json()) == ["detail"] and isinstance(r.json()["detail"], str)
    assert detail in r.json()["detail"] and "\n" not in r.json()["detail"]
    assert len(r.content) < 400 and "x" * 400 not in r.text


def test_not_json_is_422_without_echo(live: str) -> None:
    r = httpx.post(f"{live}/ask", content=b"{not json " + b"x" * 5000, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and len(r.content) < 400


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"k": "5"}, "k must be a whole number, got a string"),
        ({"k": 2.5}, "k must be a whole number, got a number"),
        ({"k": True}, "k must be a whole number, got true or false"),
        ({"k": 10**40}, "k is out of range"),
        ({"generation": 5}, "generation must be an object of settings"),
        ({"generation": {"max_tokens": "many"}}, "generation.max_tokens must be a whole number, got a string"),
        ({"generation": {"temperature": [1]}}, "generation.temperature must be a number, got a list"),
        ({"generation": {"stop": "."}}, "generation.stop must be a list, got a string"),
        ({"generation": {"stop": [1]}}, "generation.stop item must be a string, got a whole number"),
        ({"retrieval": {"weights": 5}}, "retrieval.weights must be a list, got a whole number"),
        ({"retrieval": {"weights": ["a", 1]}}, "retrieval.weights item must be a number, got a string"),
        ({"retrieval": {"weights": [1e300, 1]}}, "must be a finite number"),
        ({"retrieval": {"mode": None}}, "retrieval.mode must be a string, got null"),
        ({"evidence": {"reader": "yes"}}, "evidence.reader must be true or false, got a string"),
        ({"evidence": {"min_relevance": {}}}, "evidence.min_relevance must be a number, got an object"),
        ({"hide_unsupported": 1}, "hide_unsupported must be true or false, got a whole number"),
        ({"prompt": 3}, "prompt must be a string, got a whole number"),
        ({"retrieval": {"weights": [1]}}, "weights must be a pair"),
        ({"samples": 2}, "no longer supported"),
    ],
)
def test_wrong_typed_options_are_422(live: str, options: dict[str, Any], detail: str) -> None:
    r = httpx.post(f"{live}/ask", json={"question": QUESTION, "options": options})
    assert r.status_code == 422, r.text
    assert detail in r.json()["detail"]


def test_nan_and_infinity_are_422(live: str) -> None:
    for value in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        body = b'{"question": "Where?", "options": {"evidence": {"min_relevance": %s}}}' % value
        r = httpx.post(f"{live}/ask", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "finite" in r.json()["detail"], (value, r.text)


# ---------------------------------------------------------------- any body: never a 5xx


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.integers(min_value=-3, max_value=40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-2, max_value=2),
        st.text(max_size=12),
        st.sampled_from(["default", "quote", "evidence", "alce", "posthoc", "model", "hybrid", "bm25", "rrf", "llm"]),
    )
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    )


JSON = _json_values()


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` about nine times in ten, else ``bad``."""
    return st.integers(min_value=0, max_value=9).flatmap(lambda i: bad if i == 9 else good)


WORDS = ["default", "quote", "evidence", "alce", "posthoc", "model", "hybrid", "bm25", "dense", "rrf", "weighted"]


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Values a client might send for a setting whose default is ``value``: mostly of its type,
    near its range, sometimes anything."""
    if isinstance(value, bool):
        plausible: st.SearchStrategy[Any] = st.booleans()
    elif isinstance(value, int):
        plausible = st.integers(min_value=-2, max_value=120)
    elif isinstance(value, float):
        plausible = st.floats(min_value=-1, max_value=3, allow_nan=False)
    elif isinstance(value, list):
        plausible = st.lists(_like(value[0]) if value else st.text(max_size=3), max_size=3)
    else:
        plausible = st.sampled_from([*WORDS, "", "none"])
    return mostly(plausible, JSON)


def _options() -> st.SearchStrategy[dict[str, Any]]:
    """Pipeline settings by their real names, nested as requests send them, with values like
    theirs (and some of anything), and a few unknown names."""
    defaults = PipelineConfig().to_dict()
    pairs = [st.tuples(st.just(k), _like(v)) for k, v in defaults.items() if not isinstance(v, dict)]
    for group, values in defaults.items():
        if isinstance(values, dict):
            pairs += [st.tuples(st.just(f"{group}.{name}"), _like(v)) for name, v in values.items()]
    pairs += [st.tuples(st.sampled_from(["retrieval", "generation", "colour", "samples", "evidence.colour"]), JSON)]

    def nest(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            parent, _, child = key.partition(".")
            if child:
                group = out.setdefault(parent, {})
                if isinstance(group, dict):
                    group[child] = value
            else:
                out[key] = value
        return out

    return st.lists(st.one_of(*pairs), max_size=4).map(nest)


_REQUEST = st.fixed_dictionaries(
    {"question": mostly(st.just(QUESTION), st.one_of(st.sampled_from(["", "  ", "x" * 2001]), JSON))},
    optional={
        "k": mostly(st.integers(min_value=1, max_value=5), st.one_of(st.integers(min_value=-2, max_value=25), JSON)),
        "index": mostly(st.just("tea"), st.one_of(st.sampled_from(["other", "../etc", ""]), JSON)),
        "options": mostly(_options(), JSON),
    },
)
BODIES = mostly(_REQUEST, JSON)


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    mp = pytest.MonkeyPatch()
    mp.setenv("RAG_INDEXES", str(home / "indexes"))
    # FastAPI's test client sends Host: testserver
    with TestClient(create_app(make_server(fake_pipeline(home), allowed_hosts=("testserver",)))) as c:
        while c.get("/health").status_code != 200:
            time.sleep(0.01)
        yield c
    mp.undo()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, stream=st.booleans())
def test_any_body_is_answered_or_refused_never_a_server_error(client: TestClient, body: Any, stream: bool) -> None:
    path = "/ask/stream" if stream else "/ask"
    r = client.post(path, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert 200 <= r.status_code < 500, (r.status_code, r.text)
    if r.status_code >= 400:
        assert isinstance(r.json()["detail"], str) and len(r.content) < 1000
    elif stream:
        assert "event: error" not in r.text or '"detail"' in r.text
    assert client.get("/health").json()["busy"] == 0
