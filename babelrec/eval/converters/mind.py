"""MIND impressions with Chinese (xMIND) or mixed Chinese/English news text.

Impressions come from ``mind/behaviors.tsv``. A news item is usable when xMIND has a Chinese text
for it. Entries without one are removed from histories and candidate lists (counted per reason);
an impression is then kept when it still has a history, a clicked and an unclicked candidate.
This is the rule behind the 1,958 impressions of FACTS.md (requiring every id to have Chinese
text would keep only 170). Removed entries are counted over every impression read, kept or not.
Categories come from ``mind/news.tsv`` where it lists the news. MIND times carry no zone; they
are stored as UTC.

``mind-mixed`` keeps the same impressions, but each news that also has English text in
``mind/news.tsv`` is shown in English with probability 0.5, decided per news id by a seeded
hash, so the choice does not depend on which impressions are kept.

``mind-paired`` keeps the same impressions and Chinese histories, and shows each candidate news
that has both texts in the language of the same seeded coin: the measure of whether an item's
rank depends on its language (`babelrec.eval.language_penalty`). A news shown in English as a
candidate that is also in some history appears twice: Chinese under its id (histories) and
English under ``ID.en`` (candidates), so histories stay Chinese.

Every item whose news has both texts carries the other one in ``translations``.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from babelrec.errors import DatasetError
from babelrec.eval.converters.base import ConversionReport, dropped_counts, require
from babelrec.eval.dataset import ImpressionRow, UserRow, write_dataset
from babelrec.models import Item, Translation

BEHAVIORS = "mind/behaviors.tsv"
NEWS_EN = "mind/news.tsv"
XMIND_ZIP = "xmind_zh/xMINDsmall_dev.zip"
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
USER_LANGUAGE = "zh"


@dataclass(frozen=True)
class News:
    """One news text in one language, with MIND's category when known."""

    title: str
    abstract: str
    category: str | None = None
    subcategory: str | None = None


def read_xmind(data_dir: Path, dropped: Counter[str]) -> dict[str, News]:
    """Chinese titles and abstracts from the xMIND zip, keyed by MIND news id."""
    path = require(data_dir, XMIND_ZIP)
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if n.endswith("news.tsv")]
        if len(members) != 1:
            raise DatasetError(f"{path} should hold one news.tsv, found {members}")
        text = io.TextIOWrapper(archive.open(members[0]), encoding="utf-8").read()
    news: dict[str, News] = {}
    for line in text.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) != 3 or not fields[1].strip():
            dropped["xmind row malformed or without title"] += 1
            continue
        news[fields[0]] = News(title=fields[1], abstract=fields[2])
    return news


def read_mind_news(data_dir: Path, dropped: Counter[str]) -> dict[str, News]:
    """English news with category and subcategory from ``mind/news.tsv``."""
    news: dict[str, News] = {}
    text = require(data_dir, NEWS_EN).read_text(encoding="utf-8")
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 8 or not fields[3].strip():
            dropped["mind news row malformed or without title"] += 1
            continue
        nid, category, subcategory, title, abstract = fields[:5]
        news[nid] = News(title, abstract, category or None, subcategory or None)
    return news


def shown_in_english(news_id: str, seed: int) -> bool:
    """A fair, seeded coin per news id, stable across platforms and subsets."""
    digest = hashlib.sha256(f"{seed}:{news_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < 2**63


def _impressions(data_dir: Path, usable: set[str], dropped: Counter[str]) -> list[ImpressionRow]:
    rows: list[ImpressionRow] = []
    text = require(data_dir, BEHAVIORS).read_text(encoding="utf-8")
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            dropped["impression: malformed line"] += 1
            continue
        impression_id, user_id, time, history_text, shown = fields
        history = history_text.split()
        candidates: list[str] = []
        labels: list[Literal[0, 1]] = []
        malformed = False
        for entry in shown.split():
            nid, _, label = entry.rpartition("-")
            if label not in ("0", "1") or not nid:
                malformed = True
            elif nid in candidates:
                dropped["candidate entry: duplicate in impression"] += 1
            elif nid not in usable:
                dropped[
                    f"candidate entry ({'clicked' if label == '1' else 'unclicked'}): "
                    "no Chinese text"
                ] += 1
            else:
                candidates.append(nid)
                labels.append(1 if label == "1" else 0)
        kept_history = [nid for nid in history if nid in usable]
        dropped["history entry: no Chinese text"] += len(history) - len(kept_history)
        if malformed:
            dropped["impression: malformed candidate entry"] += 1
        elif not history:
            dropped["impression: empty history"] += 1
        elif not kept_history:
            dropped["impression: no history news with Chinese text"] += 1
        elif 1 not in labels:
            dropped["impression: no clicked candidate with Chinese text"] += 1
        elif 0 not in labels:
            dropped["impression: no unclicked candidate with Chinese text"] += 1
        else:
            try:
                timestamp = datetime.strptime(time, TIME_FORMAT).replace(tzinfo=UTC)
                rows.append(
                    ImpressionRow(
                        id=impression_id,
                        user_id=user_id,
                        history=kept_history,
                        candidates=candidates,
                        labels=labels,
                        timestamp=timestamp,
                    )
                )
            except (ValueError, ValidationError):
                dropped["impression: invalid id, user or time"] += 1
    return rows


Mode = Literal["zh", "mixed", "paired"]
ENGLISH_SUFFIX = ".en"


def _item(nid: str, item_id: str, english: bool, zh: dict[str, News], en: dict[str, News]) -> Item:
    """One news as an item in one language, with its other text as a translation."""
    text, language = (en[nid], "en") if english else (zh[nid], "zh")
    other = zh.get(nid) if english else en.get(nid)
    other_language = "zh" if english else "en"
    known = en.get(nid)
    translations = (
        {other_language: Translation(title=other.title, text=other.abstract)}
        if other is not None
        else {}
    )
    return Item(
        id=item_id,
        title=text.title,
        text=text.abstract,
        language=language,
        category=known.category if known else None,
        tags=[known.subcategory] if known and known.subcategory else [],
        metadata={"source": "mind" if english else "xmind_zh", "paired": nid in en},
        translations=translations,
    )


def _paired_candidates(
    impressions: list[ImpressionRow], english: set[str]
) -> tuple[list[ImpressionRow], dict[str, str]]:
    """Candidates shown in English get their own id where the news is also in a history."""
    in_history = {nid for row in impressions for nid in row.history}
    renamed = {nid: nid + ENGLISH_SUFFIX for nid in english if nid in in_history}
    rows = [
        row.model_copy(update={"candidates": [renamed.get(c, c) for c in row.candidates]})
        for row in impressions
    ]
    return rows, renamed


def _convert(data_dir: Path, out_dir: Path, seed: int, *, mode: Mode) -> ConversionReport:
    dropped: Counter[str] = Counter()
    zh = read_xmind(data_dir, dropped)
    en = read_mind_news(data_dir, dropped)
    impressions = _impressions(data_dir, set(zh), dropped)
    coin = {nid for nid in en if mode != "zh" and shown_in_english(nid, seed)}
    renamed: dict[str, str] = {}
    if mode == "paired":
        shown = {c for row in impressions for c in row.candidates}
        impressions, renamed = _paired_candidates(impressions, coin & shown)
        english = {renamed.get(nid, nid) for nid in coin & shown}
    else:
        english = coin
    source = {new: old for old, new in renamed.items()}

    used = list(dict.fromkeys(n for row in impressions for n in [*row.history, *row.candidates]))
    items = [_item(source.get(i, i), i, i in english, zh, en) for i in used]
    users = [
        UserRow(id=u, language=USER_LANGUAGE)
        for u in dict.fromkeys(row.user_id for row in impressions)
    ]
    content_hash = write_dataset(
        out_dir, items=items, interactions=[], users=users, impressions=impressions
    )
    languages = Counter(item.language for item in items)
    return ConversionReport(
        name={"zh": "mind-zh", "mixed": "mind-mixed", "paired": "mind-paired"}[mode],
        data_dir=str(data_dir),
        out_dir=str(out_dir),
        seed=seed,
        content_hash=content_hash,
        counts={
            "impressions": len(impressions),
            "users": len(users),
            "items": len(items),
            "interactions": 0,
        },
        dropped=dropped_counts(dropped),
        notes={
            "items_zh": languages["zh"],
            "items_en": languages["en"],
            "items_with_english_text": sum(1 for i in items if i.metadata["paired"]),
            "items_with_translation": sum(1 for i in items if i.translations),
            "english_candidates_with_own_id": len(renamed),
            "items_with_category": sum(1 for i in items if i.category),
            "interactions": "none: MIND clicks live in impressions (history, labels)",
        },
    )


def convert_mind_zh(data_dir: Path, out_dir: Path, seed: int = 0) -> ConversionReport:
    """MIND impressions with Chinese news text; `seed` is unused (nothing is random)."""
    return _convert(data_dir, out_dir, seed, mode="zh")


def convert_mind_mixed(data_dir: Path, out_dir: Path, seed: int = 0) -> ConversionReport:
    """As `convert_mind_zh`, but news with English text are shown in English half the time."""
    return _convert(data_dir, out_dir, seed, mode="mixed")


def convert_mind_paired(data_dir: Path, out_dir: Path, seed: int = 0) -> ConversionReport:
    """Chinese histories; candidates with both texts shown in English half the time (seeded)."""
    return _convert(data_dir, out_dir, seed, mode="paired")
