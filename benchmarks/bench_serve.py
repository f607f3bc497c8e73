"""Benchmark: ``rag serve`` (models loaded once) against cold ``rag ask`` (a new process per
question), in the same run, on the same questions.

    python benchmarks/bench_serve.py --index asqa --n 20 [--throughput-questions 8] \\
        [--screenshot benchmarks/bench_serve_page.png]

1. Cold: ``rag ask QUESTION --index INDEX --json`` as a new process for each of the first ``n``
   pooled-300 questions: wall seconds per question; its first token at (wall - the answer's own
   total + its time to first token), i.e. process start, loading, retrieval and prefill.
2. Warm: ``rag serve --index INDEX`` started once (its start-up is reported apart); the same
   questions one after another through ``POST /ask/stream``: seconds to the first ``token``
   event and to the final ``answer`` event.
3. Throughput: 1, 2 and 4 clients at once, each asking its share of ``--throughput-questions``
   further pooled-300 questions: answers per minute and the latency each client saw (one
   generator answers one question at a time; the others wait in the queue).
4. ``--screenshot PATH``: the page in headless chromium answering the README's quick-start
   question on ``--screenshot-index`` (the sample index), saved as a PNG.

Defaults everywhere (generator, pipeline); run it alone on the machine. Prints a table with the
ratio warm / cold of the p50s, measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUICK_START = "What did Marie Curie discover, and who first found radioactivity?"
RAG = [sys.executable, "-c", "from rag.cli import main; main()"]


def default_data_dir() -> Path:
    """``$RAG_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    env = os.environ.get("RAG_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def use_data_dir(path: Path) -> Path:
    """``path`` if it holds the ASQA data (``asqa/``), else exit saying what to pass; the library
    calls that read the data themselves are pointed at it too (``$RAG_SHARED_DATA``)."""
    if not (path / "asqa").is_dir():
        sys.exit(f"no benchmark data at {path} (no asqa/ in it): pass --data-dir or set RAG_SHARED_DATA")
    os.environ["RAG_SHARED_DATA"] = str(path)
    return path


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation (nan for no values)."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    if len(xs) == 1:
        return xs[0]
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cold(question: str, index: str) -> tuple[float, float]:
    """(wall seconds, seconds to the first token) of one ``rag ask`` process."""
    t0 = time.perf_counter()
    done = subprocess.run([*RAG, "ask", question, "--index", index, "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"rag ask failed: {done.stderr.strip().splitlines()[-1:]}")
    t = json.loads(done.stdout)["timings"]
    return wall, wall - t["total"] + t.get("time_to_first_token", t["total"])


def warm(client: httpx.Client, question: str) -> tuple[float, float | None, dict]:
    """(seconds to the answer, seconds to the first token or None, the answer) through the stream."""
    t0 = time.perf_counter()
    first: float | None = None
    event = ""
    with client.stream("POST", "/ask/stream", json={"question": question}) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
                if event == "token" and first is None:
                    first = time.perf_counter() - t0
            elif line.startswith("data: ") and event == "answer":
                return time.perf_counter() - t0, first, json.loads(line[6:])
            elif line.startswith("data: ") and event == "error":
                raise SystemExit(f"the server answered an error: {line[6:]}")
    raise SystemExit("the stream ended without an answer")


def start_server(index: str, port: int) -> tuple[subprocess.Popen[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*RAG, "serve", "--index", index, "--port", str(port), "--queue", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"rag serve exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                if c.get("/health").status_code == 200:
                    return proc, time.perf_counter() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.2)


def throughput(url: str, questions: list[str], clients: int) -> tuple[float, list[float], int]:
    """(answers per minute, per-answer latencies, 503s) with ``clients`` asking at once."""
    shares = [questions[i::clients] for i in range(clients)]
    latencies: list[float] = []
    busy = [0]
    lock = threading.Lock()

    def run(share: list[str]) -> None:
        with httpx.Client(base_url=url, timeout=600) as c:
            for q in share:
                t0 = time.perf_counter()
                r = c.post("/ask", json={"question": q})
                while r.status_code == 503:  # the queue is full: wait as told, then ask again
                    with lock:
                        busy[0] += 1
                    time.sleep(float(r.headers.get("Retry-After", "1")))
                    r = c.post("/ask", json={"question": q})
                r.raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, shares))
    return 60 * len(questions) / (time.perf_counter() - t0), latencies, busy[0]


def screenshot(url: str, index: str, path: Path) -> None:
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(f"{url}/?index={index}")
        WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#index option")))
        driver.find_element(By.ID, "question").send_keys(QUICK_START, Keys.ENTER)
        wait = WebDriverWait(driver, 600)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#answer .statement .cite")))
        driver.find_element(By.CSS_SELECTOR, "#answer .statement .cite").click()
        wait.until(ec.visibility_of_element_located((By.ID, "passage")))
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    finally:
        driver.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--n", type=int, default=20, help="questions for cold and warm latency")
    ap.add_argument("--throughput-questions", type=int, default=8, help="questions per concurrency level")
    ap.add_argument("--screenshot", type=Path, default=None)
    ap.add_argument("--screenshot-index", default="default")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()

    from rag.evaluation.data import load_asqa

    data = use_data_dir(args.data_dir) / "asqa" / "asqa_dev.json"
    items = load_asqa(data, subset="pooled300", limit=args.n + 3 * args.throughput_questions)
    latency_qs = [it.question for it in items[: args.n]]
    rest = [it.question for it in items[args.n :]]
    print(f"# {' '.join(sys.argv)}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; index {args.index}; defaults")

    cold_wall, cold_first = [], []
    for q in latency_qs:
        wall, first = cold(q, args.index)
        cold_wall.append(wall)
        cold_first.append(first)
        print(f"cold  {wall:6.1f} s (first token {first:5.1f} s)  {q[:60]}", flush=True)

    port = free_port()
    proc, startup = start_server(args.index, port)
    url = f"http://127.0.0.1:{port}"
    print(f"rag serve start-up (models loaded, /health 200): {startup:.1f} s", flush=True)
    try:
        warm_total, warm_first, words = [], [], []
        unanswered = 0
        with httpx.Client(base_url=url, timeout=600) as c:
            for q in latency_qs:
                total, first, answer = warm(c, q)
                warm_total.append(total)
                if first is not None:
                    warm_first.append(first)
                words.append(len(answer["answer"].split()))
                unanswered += not answer["answered"]
                print(f"warm  {total:6.1f} s (first token {first or float('nan'):5.1f} s)  {q[:60]}", flush=True)
        levels = []
        for clients, start in ((1, 0), (2, 1), (4, 2)):
            qs = rest[start * args.throughput_questions : (start + 1) * args.throughput_questions]
            per_min, lat, busy = throughput(url, qs, clients)
            levels.append((clients, per_min, lat, busy, len(qs)))
            print(f"throughput with {clients} clients: {per_min:.2f} answers/min", flush=True)
        if args.screenshot:
            screenshot(url, args.screenshot_index, args.screenshot)
            print(f"screenshot: {args.screenshot}")
    finally:
        proc.terminate()
        proc.wait(30)

    p50_cold, p50_warm = statistics.median(cold_wall), statistics.median(warm_total)
    print(f"\n{args.n} pooled-300 questions, one at a time (seconds):\n")
    print("| | p50 | p90 | first token p50 | first token p90 |\n|---|---|---|---|---|")
    print(
        f"| cold `rag ask` (new process) | {p50_cold:.1f} | {pct(cold_wall, 0.9):.1f} | "
        f"{statistics.median(cold_first):.1f} | {pct(cold_first, 0.9):.1f} |"
    )
    print(
        f"| warm `rag serve` (stream) | {p50_warm:.1f} | {pct(warm_total, 0.9):.1f} | "
        f"{pct(warm_first, 0.5):.1f} | {pct(warm_first, 0.9):.1f} |"
    )
    print(f"\nwarm / cold p50: {p50_warm / p50_cold:.2f}; server start-up {startup:.1f} s, paid once")
    print(
        f"first token streamed before the answer was complete: {len(warm_first)} of {len(warm_total)} answers "
        f"({unanswered} not answered: nothing relevant found, nothing generated)"
    )
    print(f"answer length: median {statistics.median(words):.0f} words")
    print("\n| clients | questions | answers / min | latency p50 | latency max | 503s (retried) |")
    print("|---|---|---|---|---|---|")
    for clients, per_min, lat, busy, n in levels:
        print(f"| {clients} | {n} | {per_min:.2f} | {statistics.median(lat):.1f} | {max(lat):.1f} | {busy} |")


if __name__ == "__main__":
    main()
