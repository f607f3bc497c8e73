"""rag.evaluation.tuning: the helpers the experiments choose settings with (a paired bootstrap
interval, an L2-penalised logistic regression, the extractive ceiling within a word budget)."""

from __future__ import annotations

import numpy as np
from conftest import run_doctests

from rag.evaluation.tuning import bootstrap_interval, fit_logistic, oracle_text


def test_the_interval_of_a_constant_difference_is_that_constant() -> None:
    assert bootstrap_interval(np.array([0.5] * 7), np.random.default_rng(1), resamples=200) == (0.5, 0.5)
    lo, hi = bootstrap_interval(np.array([0.0, 1.0] * 20), np.random.default_rng(1), resamples=500)
    assert 0.0 < lo < 0.5 < hi < 1.0


def test_logistic_regression_separates_a_separable_feature() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    w = fit_logistic(x, y, l2=0.1)  # the feature's weight, then the bias
    assert w.shape == (2,) and w[0] > 0
    scores = x[:, 0] * w[0] + w[1]
    assert (scores[:3] < 0).all() and (scores[3:] > 0).all()


def test_the_ceiling_text_stays_within_the_budget() -> None:
    qa = [{"short_answers": ["Marie Curie"]}, {"short_answers": ["1898"]}]
    texts = ["Radium was found by Marie Curie.", "It was in 1898.", "Bees make honey."]
    # the year holds half the answers in 4 words, the name the other half in 6: both fit in 12
    assert oracle_text(texts, qa, 12) == ("It was in 1898. Radium was found by Marie Curie.", 10)
    assert oracle_text(texts, qa, 9) == ("It was in 1898.", 4)  # then the name's 6 words do not fit


def test_the_module_examples_hold() -> None:
    import rag.evaluation.tuning

    run_doctests(rag.evaluation.tuning)
