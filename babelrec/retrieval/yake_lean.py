"""YAKE's keywords, computed without YAKE's per-text object graph: the same answer, 3-4x less CPU.

`yake.KeywordExtractor.extract_keywords` builds, for every text, a networkx graph of term
co-occurrences, an object per term and per candidate behind dictionaries and properties, and a
numpy median per term; on the short texts of a catalog (a title and an abstract) that set-up is
most of its cost (it took as much CPU as embedding the same items, which slowed ingest). This
module computes the same features (Campos et al., 2020: casing, position, frequency,
relatedness to context, spread over sentences) and the same candidate scores with plain dicts
and lists, in the same order and with the same floating-point operations, so the keywords and
their scores are identical to YAKE's (tests/retrieval/test_yake_lean.py compares the two on
the catalog and on generated texts). YAKE's own sentence splitter and tokenizer (segtok), its
word tags, stopword lists and near-duplicate test are used as they are.

Covers the configuration babelrec uses (`window_size` 1, the default features, no
lemmatisation); `extract` refuses any other.
"""

from __future__ import annotations

import math
import string
from typing import Any

import numpy as np

_DISCARD = frozenset({"u", "d"})  # tags of unusual tokens and numbers: no co-occurrence edges
_EXCLUDE = frozenset(string.punctuation)  # YAKE's `exclude`: a token of these alone ends a phrase
_PUNCTUATION = string.punctuation
_DELETE = str.maketrans("", "", string.punctuation)


class _Term:
    __slots__ = ("id", "stopword", "tf", "tf_a", "tf_n", "sentences", "h")

    def __init__(self, idx: int, stopword: bool) -> None:
        self.id = idx
        self.stopword = stopword
        self.tf = 0.0
        self.tf_a = 0.0
        self.tf_n = 0.0
        self.sentences: list[int] = []  # distinct sentence ids, in order of first occurrence
        self.h = 0.0


class _Candidate:
    __slots__ = ("kw", "terms", "tags", "tf", "h", "edge_stopword")

    def __init__(self, kw: str, terms: list[_Term], tag: str) -> None:
        self.kw = kw
        self.terms = terms
        self.tags = {tag}
        self.tf = 0.0
        self.h = 1.0
        self.edge_stopword = terms[0].stopword or terms[-1].stopword

    def is_valid(self) -> bool:
        return not self.edge_stopword and any("u" not in t and "d" not in t for t in self.tags)


def extract(extractor: Any, text: str) -> list[tuple[str, float]]:
    """What `extractor.extract_keywords(text)` returns, for a `yake.KeywordExtractor`."""
    config = extractor.config
    if config["window_size"] != 1 or config["features"] is not None or extractor.lemmatize:
        raise ValueError("yake_lean covers window_size=1, all features, no lemmatisation")
    if not text:
        return []
    from yake.data.utils import get_tag, pre_filter, tokenize_sentences

    n = config["n"]
    stopwords = extractor.stopword_set
    exclude = _EXCLUDE
    sentences = tokenize_sentences(pre_filter(text.replace("\n", " ")))
    terms: dict[str, _Term] = {}
    candidates: dict[str, _Candidate] = {}
    edges: dict[tuple[int, int], float] = {}
    for sentence_id, sentence in enumerate(sentences):
        block: list[tuple[str, str, _Term]] = []  # the current run of words (tag, word, term)
        for pos_sent, word in enumerate(sentence):
            if not word.strip(_PUNCTUATION):  # punctuation alone ends the run
                block = []
                continue
            tag = get_tag(word, pos_sent, exclude)
            term = _term(terms, word, stopwords)
            if not term.sentences or term.sentences[-1] != sentence_id:
                term.sentences.append(sentence_id)
            term.tf += 1.0
            if tag == "a":
                term.tf_a += 1.0
            elif tag == "n":
                term.tf_n += 1.0
            if tag not in _DISCARD and block and block[-1][0] not in _DISCARD:
                key = (block[-1][2].id, term.id)
                edges[key] = edges.get(key, 0.0) + 1.0
            # the candidates ending here: this word, then with each of the n-1 words before it
            kw, tags, cand_terms = word, tag, [term]
            for back in range(n):
                if back:
                    prev_tag, prev_word, prev_term = block[-back]
                    kw, tags = f"{prev_word} {kw}", prev_tag + tags
                    cand_terms = [prev_term, *cand_terms]
                unique = kw.lower()
                cand = candidates.get(unique)
                if cand is None:
                    cand = candidates[unique] = _Candidate(kw, cand_terms, tags)
                else:
                    cand.tags.add(tags)
                cand.tf += 1.0
                if back == len(block):
                    break
            block.append((tag, word, term))
    _score_terms(terms, edges, len(sentences))
    ranked = sorted(
        (c for c in candidates.values() if c.is_valid()), key=lambda c: _score(c, edges)
    )
    similar = extractor.dedup_function
    limit, top = config["dedup_lim"], config["top"]
    picked: list[_Candidate] = []
    for cand in ranked:
        unique = cand.kw.lower()
        if not any(similar(unique, p.kw.lower()) > limit for p in picked):
            picked.append(cand)
            if len(picked) == top:
                break
    return [(c.kw, c.h) for c in picked]


def _term(terms: dict[str, _Term], word: str, stopwords: set[str]) -> _Term:
    unique = word.lower()
    plain_stopword = unique in stopwords
    if unique.endswith("s") and len(unique) > 3:
        unique = unique[:-1]
    term = terms.get(unique)
    if term is None:
        stopword = plain_stopword or unique in stopwords or len(unique.translate(_DELETE)) < 3
        term = terms[unique] = _Term(len(terms), stopword)
    return term


def _score_terms(
    terms: dict[str, _Term], edges: dict[tuple[int, int], float], n_sentences: int
) -> None:
    """Each term's YAKE weight h (lower = more important), as `SingleWord.update_h`."""
    valid_tfs = np.array([t.tf for t in terms.values() if not t.stopword])
    if not valid_tfs.size:
        return  # as YAKE: every term keeps h = 0
    avg_tf, std_tf = valid_tfs.mean(), valid_tfs.std()
    max_tf = max(t.tf for t in terms.values())
    out_n = [0] * len(terms)
    out_tf = [0.0] * len(terms)
    in_n = [0] * len(terms)
    in_tf = [0.0] * len(terms)
    for (left, right), tf in edges.items():
        out_n[left] += 1
        out_tf[left] += tf
        in_n[right] += 1
        in_tf[right] += tf
    for term in terms.values():
        i = term.id
        pwr = 0 if out_tf[i] == 0 else out_n[i] / out_tf[i]
        pwl = 0 if in_tf[i] == 0 else in_n[i] / in_tf[i]
        wrel = 0.5 + pwl * (term.tf / max_tf) + (0.5 + pwr * (term.tf / max_tf))
        wfreq = term.tf / (avg_tf + std_tf)
        wspread = len(term.sentences) / n_sentences
        wcase = max(term.tf_a, term.tf_n) / (1.0 + math.log(term.tf))
        wpos = math.log(math.log(3.0 + _median(term.sentences)))
        term.h = wpos * wrel / (wcase + wfreq / wrel + wspread / wrel)


def _median(values: list[int]) -> float:
    """`np.median` of a sorted list of ints, as a float."""
    mid = len(values) // 2
    if len(values) % 2:
        return float(values[mid])
    return (values[mid - 1] + values[mid]) / 2.0


def _score(cand: _Candidate, edges: dict[tuple[int, int], float]) -> float:
    """A candidate's h, as `ComposedWord.update_h` (stopwords inside weighted by bigram odds)."""
    sum_h, prod_h = 0.0, 1.0
    terms = cand.terms
    for t, term in enumerate(terms):
        if not term.stopword:
            sum_h += term.h
            prod_h *= term.h
            continue
        prob_t1 = prob_t2 = 0.0
        if t > 0 and (terms[t - 1].id, term.id) in edges:
            prob_t1 = edges[(terms[t - 1].id, term.id)] / terms[t - 1].tf
        if t < len(terms) - 1 and (term.id, terms[t + 1].id) in edges:
            prob_t2 = edges[(term.id, terms[t + 1].id)] / terms[t + 1].tf
        prob = prob_t1 * prob_t2
        prod_h *= 1 + (1 - prob)
        sum_h -= 1 - prob
    cand.h = prod_h / ((sum_h + 1) * cand.tf)
    return cand.h
