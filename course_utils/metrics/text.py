"""Text metrics for captioning (notebook 10): BLEU (Papineni, Roukos, Ward and Zhu, 2002).

BLEU-N compares a candidate sentence with one or more references through n-gram precisions.
For n = 1..N the **modified** precision clips each candidate n-gram's count at its largest count
in any one reference,

    p_n = sum over n-grams g of min(count_cand(g), max_ref count_ref(g)) / sum over g of count_cand(g),

and the score is the geometric mean of p_1..p_N (uniform weights 1/N) times the **brevity
penalty** ``BP = 1`` when the candidate length c exceeds the effective reference length r and
``exp(1 - r / c)`` otherwise; r is the reference length closest to c (the shorter on a tie).
:func:`corpus_bleu` sums the clipped counts, candidate counts and lengths over all sentences
before dividing, as the paper does; :func:`sentence_bleu` is the corpus score of one sentence.
No smoothing: a sentence without any matching n-gram of some order scores 0. Sentences are
strings (split on whitespace) or lists of tokens.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

__all__ = ["corpus_bleu", "modified_precision", "ngrams", "sentence_bleu"]


def _tokens(sentence, name: str) -> list[str]:
    if isinstance(sentence, str):
        return sentence.split()
    if isinstance(sentence, (list, tuple)) and all(isinstance(t, str) for t in sentence):
        return list(sentence)
    raise ValueError(f"{name}: expected a string or a list of string tokens, got {sentence!r}")


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """The n-grams of a token list with their counts, e.g. ``ngrams(["a", "b", "a", "b"], 2)``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected an int >= 1, got {n!r}")
    tokens = list(tokens)
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def modified_precision(candidate, references, n: int) -> tuple[int, int]:
    """(clipped matches, candidate n-grams) of order ``n`` for one candidate and its references."""
    cand = ngrams(_tokens(candidate, "candidate"), n)
    refs = [ngrams(_tokens(r, "references"), n) for r in _references(references)]
    max_ref = Counter()
    for r in refs:
        for g, c in r.items():
            max_ref[g] = max(max_ref[g], c)
    return sum(min(c, max_ref[g]) for g, c in cand.items()), sum(cand.values())


def _references(references) -> list:
    if isinstance(references, str):
        return [references]
    if isinstance(references, (list, tuple)) and references and all(isinstance(t, str) for t in references) \
            and not any(" " in t for t in references) and len(references) > 1:
        raise ValueError("references: expected a list of sentences; got what looks like one tokenised "
                         "sentence (wrap it in a list)")
    if not isinstance(references, (list, tuple)) or not references:
        raise ValueError(f"references: expected a non-empty list of sentences, got {references!r}")
    return list(references)


def corpus_bleu(candidates: Sequence, references: Sequence, max_n: int = 4) -> float:
    """BLEU-``max_n`` of a corpus: ``candidates[i]`` against the references ``references[i]``.

    ``references[i]`` is one sentence or a list of sentences. Counts and lengths are summed
    over the corpus before the precisions and the brevity penalty are taken. Returns a float
    in [0, 1].
    """
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise ValueError(f"max_n: expected an int >= 1, got {max_n!r}")
    if isinstance(candidates, str) or len(candidates) != len(references) or len(candidates) == 0:
        raise ValueError(f"candidates and references: expected two lists of the same non-zero length, "
                         f"got {type(candidates).__name__} and {len(references)} references")
    matches, totals = [0] * max_n, [0] * max_n
    c_len = r_len = 0
    for cand, refs in zip(candidates, references):
        refs = _references(refs)
        tokens = _tokens(cand, "candidates")
        ref_lens = [len(_tokens(r, "references")) for r in refs]
        c_len += len(tokens)
        r_len += min(ref_lens, key=lambda r: (abs(r - len(tokens)), r))
        for n in range(1, max_n + 1):
            m, t = modified_precision(tokens, refs, n)
            matches[n - 1] += m
            totals[n - 1] += t
    if c_len == 0 or min(matches) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    bp = 1.0 if c_len > r_len else math.exp(1.0 - r_len / c_len)
    return bp * math.exp(log_p)


def sentence_bleu(candidate, references, max_n: int = 4) -> float:
    """BLEU-``max_n`` of one candidate sentence against one reference or a list of them."""
    return corpus_bleu([candidate], [references], max_n=max_n)
