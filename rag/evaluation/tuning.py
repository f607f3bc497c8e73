"""Helpers for choosing settings on tuning questions: paired bootstrap intervals, an L2-penalised
logistic regression, and the ceiling of an extractive answer within a word budget.

Pure functions on arrays and strings: nothing here loads a model or reads a file, and numpy is
imported where it is used. The experiments under ``experiments/`` fit the evidence scorer's
weights and compare evidence choices with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rag.evaluation.metrics import str_em

if TYPE_CHECKING:
    import numpy as np


def bootstrap_interval(diff: np.ndarray, rng: np.random.Generator, resamples: int = 2000) -> tuple[float, float]:
    """The 95% percentile interval of the mean of the paired differences ``diff``.

    ``resamples`` bootstrap resamples (with replacement, the size of ``diff``) are drawn from
    ``rng``; a script that passes one generator to several calls gets intervals that depend on
    the order of the calls, as a fixed seed per script intends.

    >>> import numpy as np
    >>> lo, hi = bootstrap_interval(np.array([1.0, 1.0, 1.0]), np.random.default_rng(0))
    >>> (lo, hi)
    (1.0, 1.0)
    """
    import numpy as np

    boot = [rng.choice(diff, len(diff)).mean() for _ in range(resamples)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return float(lo), float(hi)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> np.ndarray:
    """Logistic regression by Newton's method on the L2-penalised log loss.

    ``x`` is (n, d), ``y`` (n,) in {0, 1}; the bias is not penalised. Returns d + 1 weights, the
    bias last. Stops early once no weight moves by more than 1e-8.
    """
    import numpy as np

    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = l2 * np.eye(xb.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def fit_standardized(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """:func:`fit_logistic` on standardised features, folded back to the raw ones.

    Standardising makes the penalty treat every feature alike; the weights returned apply to the
    raw ``x`` (``x @ weights + bias`` is the log-odds), so a caller needs no scaler.
    """
    mu, sd = x.mean(0), x.std(0) + 1e-9
    w = fit_logistic((x - mu) / sd, y, l2=l2)
    raw = w[:-1] / sd
    return raw, float(w[-1] - (w[:-1] * mu / sd).sum())


def oracle_text(texts: Sequence[str], qa_pairs: Sequence[Mapping[str, Any]], budget: int) -> tuple[str, int]:
    """The ceiling of any choice among ``texts`` within ``budget`` words, knowing the answers.

    Greedily adds the text that raises ``str_em`` against ``qa_pairs`` the most per word while it
    fits the budget; returns the chosen texts joined by spaces and their number of words.

    >>> oracle_text(["Ann won.", "It rained all day long.", "Bob came second."],
    ...             [{"short_answers": ["Ann"]}, {"short_answers": ["Bob"]}], 5)
    ('Ann won. Bob came second.', 5)
    """
    qa = [dict(p) for p in qa_pairs]
    out: list[str] = []
    used = 0
    while True:
        base = str_em(" ".join(out), qa)
        best: tuple[float, str, int] | None = None
        for t in texts:
            n = len(t.split())
            if t in out or used + n > budget:
                continue
            gain = (str_em(" ".join([*out, t]), qa) - base) / n
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, t, n)
        if best is None:
            return " ".join(out), used
        out.append(best[1])
        used += best[2]
