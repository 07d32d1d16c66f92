"""Korean (KMRD, Naver Movie) and US (MovieLens-100K) film ratings, matched on shared films.

A KMRD film and a MovieLens film match when one of their English titles and the year agree.
Titles are compared after folding accents, case and punctuation, and moving MovieLens' trailing
article ("Usual Suspects, The") to the front; MovieLens' parenthesised alternative titles
("Seven (Se7en)") and KMRD's original-language titles ("Jeux Interdits , Forbidden Games , 1952")
count as aliases. Only one-to-one matches are kept. Both datasets record the match in item
metadata: ``shared_id`` (same string on both sides), ``kmrd_id`` / ``ml100k_id``. MovieLens has
no production country, so matched MovieLens films borrow KMRD's (``region_source: kmrd``).

Item text is the genre list, in the dataset's language; ratings keep their scales (KMRD 1-10,
MovieLens 1-5). Neither converter uses the seed.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from babelrec.eval.converters.base import ConversionReport, dropped_counts, require
from babelrec.eval.dataset import InteractionRow, UserRow, write_dataset
from babelrec.models import Item, MetadataValue

KMRD_MOVIES = "kmrd/movies.txt"
KMRD_RATES = "kmrd/rates.csv"
KMRD_COUNTRIES = "kmrd/countries.csv"
KMRD_GENRES = "kmrd/genres.csv"
ML_ITEMS = "ml100k/ml-100k.item"
ML_RATINGS = "ml100k/ml-100k.inter"
ML_USERS = "ml100k/ml-100k.user"

#: KMRD's Korean country names to ISO 3166-1 alpha-2 ("YU": the former Yugoslavia).
COUNTRY_CODES = {
    "미국": "US",
    "한국": "KR",
    "영국": "GB",
    "프랑스": "FR",
    "홍콩": "HK",
    "이탈리아": "IT",
    "독일": "DE",
    "독일(구 서독)": "DE",
    "오스트레일리아": "AU",
    "대만": "TW",
    "스페인": "ES",
    "캐나다": "CA",
    "일본": "JP",
    "중국": "CN",
    "스웨덴": "SE",
    "러시아(구 소련)": "RU",
    "폴란드": "PL",
    "남아프리카 공화국": "ZA",
    "알제리": "DZ",
    "브라질": "BR",
    "보츠와나": "BW",
    "핀란드": "FI",
    "터키": "TR",
    "체코": "CZ",
    "유고슬라비아": "YU",
    "아일랜드": "IE",
    "아르헨티나": "AR",
    "벨라루스(구 소련)": "BY",
    "벨기에": "BE",
    "멕시코": "MX",
    "덴마크": "DK",
    "뉴질랜드": "NZ",
    "노르웨이": "NO",
    "네덜란드": "NL",
    "그리스": "GR",
}
UNKNOWN_COUNTRY = "국가불명"


@dataclass
class Film:
    """A film as one source describes it, before it becomes an `Item`."""

    id: str
    title: str
    year: int | None
    english_titles: list[str]
    genres: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    extra: dict[str, MetadataValue] = field(default_factory=dict)


def normalise_title(title: str) -> str:
    """Fold accents, case, punctuation and a trailing article, for matching titles."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    folded = re.sub(r"^(.*), (the|a|an)$", r"\2 \1", folded.strip())
    return re.sub(r"[^a-z0-9]+", " ", folded.replace("&", " and ")).strip()


def _year(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d{4}", text.strip()) else None


def _read_tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def read_kmrd_films(data_dir: Path, dropped: Counter[str]) -> dict[str, Film]:
    """KMRD films with Korean title, English aliases, year, genres and production countries."""
    countries: defaultdict[str, list[str]] = defaultdict(list)
    with require(data_dir, KMRD_COUNTRIES).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            name = row["country"].strip()
            if name in COUNTRY_CODES:
                countries[row["movie"]].append(COUNTRY_CODES[name])
            elif name != UNKNOWN_COUNTRY:
                dropped[f"country not mapped to ISO code: {name}"] += 1
    genres: defaultdict[str, list[str]] = defaultdict(list)
    with require(data_dir, KMRD_GENRES).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            genres[row["movie"]].append(row["genre"].strip())
    films: dict[str, Film] = {}
    for fields in _read_tsv(require(data_dir, KMRD_MOVIES)):
        if len(fields) != 5:
            dropped["film: malformed movies.txt row"] += 1
            continue
        movie, title, title_eng, release_kr, grade = (f.strip() for f in fields)
        parts = [p.strip() for p in title_eng.split(" , ") if p.strip()]
        year = _year(parts[-1]) if parts else None
        english = parts[:-1] if year is not None else parts
        if not title:
            title = english[-1] if english else ""
        if not title:
            dropped["film: no title at all"] += 1
            continue
        extra: dict[str, MetadataValue] = {"title_en": english[-1]} if english else {}
        if grade:
            extra["grade"] = grade
        if _year(release_kr) is not None:
            extra["release_year_kr"] = int(release_kr)
        films[movie] = Film(
            movie, title, year, english, genres.get(movie, []), countries.get(movie, []), extra
        )
    return films


def read_ml_films(data_dir: Path, dropped: Counter[str]) -> dict[str, Film]:
    """MovieLens films; "Seven (Se7en)" also gives the aliases "Seven" and "Se7en"."""
    films: dict[str, Film] = {}
    for fields in _read_tsv(require(data_dir, ML_ITEMS)):
        if len(fields) != 4 or not fields[1].strip():
            dropped["film: malformed ml-100k.item row"] += 1
            continue
        item_id, title, year, genres = (f.strip() for f in fields)
        alternative = re.fullmatch(r"(.*?) \((.*)\)", title)
        aliases = [alternative.group(1), alternative.group(2), title] if alternative else [title]
        films[item_id] = Film(item_id, title, _year(year), aliases, genres.split())
    return films


def match_films(kmrd: dict[str, Film], ml: dict[str, Film]) -> dict[str, tuple[str, str]]:
    """KMRD id -> (MovieLens id, shared id) for films matched one-to-one on title and year."""
    by_key: defaultdict[tuple[str, int], set[str]] = defaultdict(set)
    for film in ml.values():
        if film.year is not None:
            for alias in film.english_titles:
                by_key[(normalise_title(alias), film.year)].add(film.id)
    candidates: dict[str, set[str]] = {}
    for film in kmrd.values():
        if film.year is None:
            continue
        hits = set().union(
            *(by_key.get((normalise_title(t), film.year), set()) for t in film.english_titles)
        )
        if hits:
            candidates[film.id] = hits
    ml_claims = Counter(ml_id for hits in candidates.values() for ml_id in hits)
    matches: dict[str, tuple[str, str]] = {}
    for kmrd_id, hits in candidates.items():
        if len(hits) == 1 and ml_claims[next(iter(hits))] == 1:
            ml_film = ml[next(iter(hits))]
            slug = normalise_title(ml_film.english_titles[0]).replace(" ", "-")
            matches[kmrd_id] = (ml_film.id, f"{slug}-{ml_film.year}")
    return matches


def _items(
    films: dict[str, Film],
    language: str,
    shared: dict[str, tuple[str, str]],
    other: str,
    regions: dict[str, list[str]],
) -> list[Item]:
    items = []
    for film in films.values():
        metadata = dict(film.extra)
        if film.year is not None:
            metadata["year"] = film.year
        countries = film.countries or regions.get(film.id, [])
        if film.id in shared:
            metadata[f"{other}_id"], metadata["shared_id"] = shared[film.id]
        if countries:
            metadata["countries"] = ",".join(countries)
            if not film.countries:
                metadata["region_source"] = "kmrd"
        items.append(
            Item(
                id=film.id,
                title=film.title,
                text=", ".join(film.genres),
                language=language,
                region=countries[0] if countries else None,
                category=film.genres[0] if film.genres else None,
                tags=film.genres,
                metadata=metadata,
            )
        )
    return items


def _ratings(
    path: Path,
    columns: tuple[str, str, str, str],
    films: dict[str, Film],
    dropped: Counter[str],
    delimiter: str,
) -> list[InteractionRow]:
    rows: list[InteractionRow] = []
    user_col, item_col, rating_col, time_col = columns
    with path.open(encoding="utf-8", newline="") as f:
        for record in csv.DictReader(f, delimiter=delimiter):
            if record[item_col] not in films:
                dropped["rating: film dropped or not described"] += 1
                continue
            try:
                rows.append(
                    InteractionRow(
                        user_id=record[user_col],
                        item_id=record[item_col],
                        timestamp=datetime.fromtimestamp(int(float(record[time_col])), tz=UTC),
                        rating=float(record[rating_col]),
                    )
                )
            except (ValueError, TypeError, ValidationError):
                dropped["rating: malformed row"] += 1
    return rows


def _write(
    name: str,
    data_dir: Path,
    out_dir: Path,
    seed: int,
    items: list[Item],
    ratings: list[InteractionRow],
    user_ids: list[str],
    language: str,
    region: str,
    dropped: Counter[str],
    notes: dict[str, int | float | str],
) -> ConversionReport:
    users = [UserRow(id=u, language=language, region=region) for u in user_ids]
    content_hash = write_dataset(out_dir, items=items, interactions=ratings, users=users)
    rated = {r.item_id for r in ratings}
    notes["rated_items"] = len(rated)
    notes["rated_matched_items"] = sum(
        1 for i in items if "shared_id" in i.metadata and i.id in rated
    )
    return ConversionReport(
        name=name,
        data_dir=str(data_dir),
        out_dir=str(out_dir),
        seed=seed,
        content_hash=content_hash,
        counts={
            "items": len(items),
            "users": len(users),
            "interactions": len(ratings),
            "impressions": 0,
        },
        dropped=dropped_counts(dropped),
        notes=notes,
    )


def convert_kmrd(data_dir: Path, out_dir: Path, seed: int = 0) -> ConversionReport:
    """Korean users rating films with Korean titles; region is the production country."""
    dropped: Counter[str] = Counter()
    kmrd = read_kmrd_films(data_dir, dropped)
    ml = read_ml_films(data_dir, Counter())
    matches = match_films(kmrd, ml)
    items = _items(kmrd, "ko", matches, "ml100k", {})
    ratings = _ratings(
        require(data_dir, KMRD_RATES), ("user", "movie", "rate", "time"), kmrd, dropped, ","
    )
    users = list(dict.fromkeys(r.user_id for r in ratings))
    notes: dict[str, int | float | str] = {
        "matched_films": len(matches),
        "items_with_region": sum(1 for i in items if i.region),
    }
    return _write(
        "kmrd", data_dir, out_dir, seed, items, ratings, users, "ko", "KR", dropped, notes
    )


def convert_ml100k(data_dir: Path, out_dir: Path, seed: int = 0) -> ConversionReport:
    """US users rating films with English titles; matched films get KMRD's country."""
    dropped: Counter[str] = Counter()
    ml = read_ml_films(data_dir, dropped)
    kmrd = read_kmrd_films(data_dir, Counter())
    matches = {
        ml_id: (kmrd_id, shared) for kmrd_id, (ml_id, shared) in match_films(kmrd, ml).items()
    }
    regions = {ml_id: kmrd[kmrd_id].countries for ml_id, (kmrd_id, _) in matches.items()}
    items = _items(ml, "en", matches, "kmrd", regions)
    ratings = _ratings(
        require(data_dir, ML_RATINGS),
        ("user_id:token", "item_id:token", "rating:float", "timestamp:float"),
        ml,
        dropped,
        "\t",
    )
    rated_users = set(r.user_id for r in ratings)
    known = [fields[0] for fields in _read_tsv(require(data_dir, ML_USERS)) if fields[0]]
    dropped["user: no ratings (held-out user)"] += sum(1 for u in known if u not in rated_users)
    users = list(dict.fromkeys(r.user_id for r in ratings))
    notes: dict[str, int | float | str] = {
        "matched_films": len(matches),
        "items_with_region": sum(1 for i in items if i.region),
    }
    return _write(
        "ml100k", data_dir, out_dir, seed, items, ratings, users, "en", "US", dropped, notes
    )
