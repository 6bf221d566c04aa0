"""Tests for course_utils.metrics.text (BLEU) against examples computed by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_utils.metrics import corpus_bleu, sentence_bleu
from course_utils.metrics.text import modified_precision, ngrams

REF = "a red circle above a green square"
CAND = "a red circle above a blue square"


def test_ngrams():
    assert ngrams("a b a b".split(), 2) == {("a", "b"): 2, ("b", "a"): 1}
    assert ngrams(["a"], 2) == {}
    with pytest.raises(ValueError, match="n"):
        ngrams(["a"], 0)


def test_hand_example():
    # 1-grams 6/7 (only "blue" misses), 2-grams 4/6, 3-grams 3/5, 4-grams 2/4; same length, BP = 1.
    assert [modified_precision(CAND, [REF], n) for n in (1, 2, 3, 4)] == [(6, 7), (4, 6), (3, 5), (2, 4)]
    expected = (6 / 7 * 4 / 6 * 3 / 5 * 2 / 4) ** 0.25
    assert sentence_bleu(CAND, REF) == pytest.approx(expected)
    assert sentence_bleu(CAND, [REF]) == pytest.approx(0.6434, abs=1e-4)
    assert sentence_bleu(CAND.split(), [REF.split()]) == pytest.approx(expected)


def test_clipping_the_classic_example():
    # Papineni et al.'s example: "the the the the the the the" has unigram precision 2/7.
    refs = ["the cat is on the mat", "there is a cat on the mat"]
    assert modified_precision("the the the the the the the", refs, 1) == (2, 7)
    assert sentence_bleu("the the the the the the the", refs, max_n=1) == pytest.approx(2 / 7)


def test_brevity_penalty_and_effective_length():
    # Every n-gram matches, the candidate has 8 words, the reference 10: BLEU = exp(1 - 10/8).
    ref = "a red circle to the left of a blue square"
    assert sentence_bleu("a red circle to the left of a", ref) == pytest.approx(math.exp(-0.25))
    # The closest reference length (8) is used: no penalty.
    assert sentence_bleu("a red circle to the left of a", [ref, "a red circle to the left of a"]) == 1.0
    # A longer candidate is not penalised by BP (its precision drops instead).
    assert sentence_bleu(ref + " a", ref, max_n=1) == pytest.approx(10 / 11)


def test_corpus_sums_counts_before_dividing():
    cands, refs = [CAND, "a blue square"], [REF, "a blue square"]
    p = [(6 + 3) / (7 + 3), (4 + 2) / (6 + 2), (3 + 1) / (5 + 1), (2 + 0) / (4 + 0)]
    assert corpus_bleu(cands, refs) == pytest.approx(math.prod(p) ** 0.25)
    assert sentence_bleu("a blue square", "a blue square") == 0.0  # no 4-gram: no smoothing


@given(st.lists(st.sampled_from(["a", "red", "blue", "circle", "above"]), min_size=4, max_size=12))
def test_identity_scores_one_and_range(tokens):
    assert sentence_bleu(tokens, [tokens]) == pytest.approx(1.0)
    assert 0.0 <= sentence_bleu(tokens, [REF]) <= 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="candidates and references"):
        corpus_bleu([CAND], [])
    with pytest.raises(ValueError, match="max_n"):
        sentence_bleu(CAND, REF, max_n=0)
    with pytest.raises(ValueError, match="references"):
        sentence_bleu(CAND, [])
    with pytest.raises(ValueError, match="references"):
        sentence_bleu(CAND, ["a", "red", "circle"])  # one tokenised sentence, not wrapped
    with pytest.raises(ValueError, match="candidate"):
        sentence_bleu(3, REF)
