"""Keywords per item, computed at ingest: a few phrases that say what an item is about.

Space-separated languages go through YAKE (Campos et al., 2020: unsupervised, one document at a
time, stopword lists for 34 languages, maintained), scored by `babelrec.retrieval.yake_lean`:
YAKE's own answer at a third of its CPU. YAKE cannot read Chinese or Japanese: it
splits on spaces, so a whole sentence becomes one "word", and it drops every token shorter than
three characters, which is most Chinese, Japanese and Korean words. For those, babelrec scores
candidates of its own, measured in bench/keywords.py:
- Chinese: character 2-4-grams of Han runs, not starting or ending with a function character;
- Japanese: runs of kanji or of katakana (particles and inflections are hiragana), long kanji
  runs also as 2-4-grams;
- Korean: space-separated words with the particle stripped from their end;
scored by frequency (title counted twice; a 3-4-gram must occur twice) times inverse document
frequency over the batch being ingested, with a candidate dropped when a longer candidate
containing it is as frequent.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from babelrec.models import Item
from babelrec.retrieval import yake_lean

MAX_KEYWORDS = 8
MAX_CHARS = 5000  # keywords come from the start of long texts; YAKE is linear but not free

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA = r"\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HANGUL = r"\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_CJK_CHAR = re.compile(f"[{_HAN}{_KANA}{_HANGUL}]")
_HAN_RUN = re.compile(f"[{_HAN}]+")
_JA_RUN = re.compile(f"[{_HAN}々〆]{{2,}}|[\u30a0-\u30ff\u31f0-\u31ff]{{2,}}")
_HANGUL_WORD = re.compile(f"[{_HANGUL}]+")
_ZH_FUNCTION = set("的了是在和与及或也就都而把被对从向于为着过个这那其之与以及但并且所等将已该")
_KO_PARTICLES = sorted(
    [
        "에서는",
        "에게서",
        "으로는",
        "이라는",
        "에서도",
        "까지는",
        "부터는",
        "에서",
        "에게",
        "으로",
        "까지",
        "부터",
        "처럼",
        "보다",
        "라는",
        "이나",
        "이다",
        "했다",
        "한다",
        "하는",
        "했던",
        "하고",
        "하며",
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "에",
        "의",
        "와",
        "과",
        "도",
        "로",
        "만",
        "나",
        "며",
        "고",
        "다",
    ],
    key=len,
    reverse=True,
)
_KO_PREDICATE = ("습니다", "니다", "었다", "았다", "였다", "했다", "한다", "하다", "된다", "는다")
_YAKE_LANGUAGES = set(
    [
        "ar",
        "bg",
        "br",
        "cz",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fa",
        "fi",
        "fr",
        "hi",
        "hr",
        "hu",
        "hy",
        "id",
        "it",
        "lt",
        "lv",
        "nl",
        "no",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sv",
        "tr",
        "uk",
    ]
)
_YAKE_ALIASES = {"cs": "cz", "nb": "no", "nn": "no"}


def is_cjk(text: str, language: str | None) -> bool:
    """Whether `text` needs the CJK path: its language says so, or most of its letters are."""
    if language in {"zh", "ja", "ko"}:
        return True
    sample = text[:500]
    letters = sum(1 for ch in sample if ch.isalpha())
    return letters > 0 and len(_CJK_CHAR.findall(sample)) / letters > 0.3


@lru_cache(maxsize=64)
def _yake(language: str) -> Any:
    import yake

    lan = _YAKE_ALIASES.get(language, language)
    return yake.KeywordExtractor(
        lan=lan if lan in _YAKE_LANGUAGES else "en", n=2, top=MAX_KEYWORDS * 2, dedup_lim=0.7
    )


def yake_keywords(text: str, language: str | None, k: int = MAX_KEYWORDS) -> list[str]:
    """YAKE's best `k` one- and two-word phrases (lower YAKE score = better)."""
    if not text.strip():
        return []
    found = yake_lean.extract(_yake(language or "en"), text[:MAX_CHARS])
    return _unique((phrase for phrase, _ in found), k)


def cjk_candidates(text: str, language: str | None) -> list[str]:
    """Candidate terms of a CJK text, in order of occurrence (with repeats)."""
    hangul = len(_HANGUL_WORD.findall(text[:500]))
    kana = sum(1 for ch in text[:500] if "\u3040" <= ch <= "\u30ff")
    lang = language if language in {"zh", "ja", "ko"} else None
    if lang is None:
        lang = "ko" if hangul > 0 and hangul * 2 >= kana else "ja" if kana else "zh"
    out: list[str] = []
    if lang == "ko":
        for word in _HANGUL_WORD.findall(text):
            if not word.endswith(_KO_PREDICATE):  # verbs and adjectives, not topics
                out.append(_strip_particle(word))
        return [w for w in out if len(w) >= 2]
    if lang == "ja":
        for run in _JA_RUN.findall(text):
            out.append(run)
            if len(run) > 4 and _HAN_RUN.fullmatch(run):
                out.extend(_ngrams(run))
        return out
    for run in _HAN_RUN.findall(text):
        out.extend(_ngrams(run))
    return [c for c in out if c[0] not in _ZH_FUNCTION and c[-1] not in _ZH_FUNCTION]


def _ngrams(run: str) -> list[str]:
    return [run[i : i + n] for n in (2, 3, 4) for i in range(len(run) - n + 1)]


def _strip_particle(word: str) -> str:
    for particle in _KO_PARTICLES:
        if len(word) > len(particle) + 1 and word.endswith(particle):
            return word[: -len(particle)]
    return word


def cjk_keywords(
    texts: Sequence[tuple[str, str]],
    languages: Sequence[str | None],
    k: int = MAX_KEYWORDS,
) -> list[list[str]]:
    """Keywords of CJK (title, text) pairs, tf-idf over the batch."""
    counts: list[Counter[str]] = []
    for (title, body), language in zip(texts, languages, strict=True):
        in_title = Counter(cjk_candidates(title, language))
        seen = in_title + Counter(cjk_candidates(body[:MAX_CHARS], language))
        # An n-gram of three or more characters seen once is mostly a word boundary crossed.
        counts.append(
            Counter({t: c + in_title[t] for t, c in seen.items() if len(t) == 2 or c >= 2})
        )
    df: Counter[str] = Counter()
    for counted in counts:
        df.update(counted.keys())
    n = len(counts)
    results = []
    for counted in counts:
        if sum(1 for c in counted.values() if c >= 2) >= 3:  # enough repeated terms: drop noise
            counted = Counter({t: c for t, c in counted.items() if c >= 2})
        scored = {
            term: tf * (math.log((1 + n) / (1 + df[term])) + 1.0) * (1 + 0.1 * len(term))
            for term, tf in counted.items()
            if not _subsumed(term, tf, counted)
        }
        ranked = sorted(scored, key=lambda t: (-scored[t], -len(t), t))
        picked: list[str] = []
        for term in ranked:
            if any(term in p or p in term for p in picked):
                continue
            picked.append(term)
            if len(picked) == k:
                break
        results.append(picked)
    return results


def _subsumed(term: str, tf: int, counted: Counter[str]) -> bool:
    """A term always seen inside one longer candidate adds nothing of its own."""
    if len(term) >= 4:
        return False
    return any(len(o) > len(term) and term in o and c >= tf for o, c in counted.items())


def _unique(phrases: Any, k: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for phrase in phrases:
        text = " ".join(str(phrase).split())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
        if len(out) == k:
            break
    return out


def extract_keywords(items: Sequence[Item], k: int = MAX_KEYWORDS) -> list[list[str]]:
    """Keywords for each item, in order: YAKE or the CJK scorer, by the item's text."""
    result: list[list[str]] = [[] for _ in items]
    cjk: list[int] = []
    for index, item in enumerate(items):
        if is_cjk(item.embedding_text(), item.language):
            cjk.append(index)
        else:
            result[index] = yake_keywords(item.embedding_text(), item.language, k)
    if cjk:
        pairs = [(items[i].title, items[i].text) for i in cjk]
        found = cjk_keywords(pairs, [items[i].language for i in cjk], k)
        for index, keywords in zip(cjk, found, strict=True):
            result[index] = keywords
    return result


def lacking_keywords(items: Sequence[Item]) -> list[int]:
    """Positions of the items that came without keywords of their own."""
    return [i for i, item in enumerate(items) if not item.keywords]


def given_keywords(
    items: Sequence[Item], positions: Sequence[int], found: Sequence[list[str]]
) -> list[Item]:
    """`items`, the one at `positions[k]` given `found[k]` as its keywords."""
    out = list(items)
    for index, keywords in zip(positions, found, strict=True):
        out[index] = items[index].model_copy(update={"keywords": keywords})
    return out


def with_keywords(items: Sequence[Item]) -> list[Item]:
    """`items`, each given keywords unless it came with its own."""
    missing = lacking_keywords(items)
    if not missing:
        return list(items)
    return given_keywords(items, missing, extract_keywords([items[i] for i in missing]))
