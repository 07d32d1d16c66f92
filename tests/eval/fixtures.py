"""A small shared-data folder in the real formats (invented content, no licensed data).

`build_shared_data(root)` writes what the converters read from ``../shared/data``, byte for
byte in the upstream layouts: MIND's header-less ``behaviors.tsv`` / ``news.tsv`` (8 columns,
JSON entity lists, empty abstracts), the xMIND zip (a folder entry and a deflated
``news.tsv`` with a ``nid, title, abstract`` header, Traditional Chinese, empty abstracts and
quotes), KMRD's ``rates.csv`` / ``countries.csv`` / ``genres.csv`` (comma, header) and
``movies.txt`` (tab; ``title_eng`` holds aliases and the year joined by " , "), and MovieLens'
RecBole atomic files (tab, ``name:type`` headers). Each file has one row per quirk the real
one has; the expected conversion counts follow from the comments. (KMRD's castings and people
files are not read by any converter, so they are not written.)
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

# ---- MIND / xMIND --------------------------------------------------------------------------
# Chinese text (xMIND) for N1..N30; N99's row has no title, so N99 is not usable.
# English text (mind/news.tsv) for N21..N40; N98's row has no title. Paired: N21..N30.
ZH_TITLES = [
    "市議會通過新預算", "颱風逼近東部海岸", "本地球隊贏得冠軍", "夜市美食排行榜",
    "股市連續三日上漲", "山區步道重新開放", "新書發表會人潮擁擠", "高鐵增開假日班次",
    "博物館推出特展", "農民迎來豐收季",
]  # fmt: skip
ZH_ABSTRACTS = ["記者現場報導, 民眾反應熱烈.", "", '"我們會繼續努力," 他說.', "詳情請見官方網站."]
EN_CATEGORIES = [("news", "newsus"), ("sports", "football_nfl"), ("lifestyle", "lifestyleroyals")]


def _xmind_tsv() -> str:
    lines = ["nid\ttitle\tabstract"]
    for n in range(1, 31):
        title = f"{ZH_TITLES[n % len(ZH_TITLES)]} ({n})"
        lines.append(f"N{n}\t{title}\t{ZH_ABSTRACTS[n % len(ZH_ABSTRACTS)]}")
    lines.append("N99\t\t沒有標題的新聞.")  # dropped: no title
    for n in range(50, 56):  # text for news no impression uses: not items
        lines.append(f"N{n}\t{ZH_TITLES[n % len(ZH_TITLES)]}\t")
    return "\n".join(lines) + "\n"


def _mind_news_tsv() -> str:
    rows = []
    for n in range(21, 41):
        category, sub = EN_CATEGORIES[n % len(EN_CATEGORIES)]
        abstract = "" if n % 5 == 0 else f"What happened on day {n}, and why it matters."
        entities = json.dumps(
            [{"Label": "Example", "Type": "O", "WikidataId": "Q1", "Confidence": 1.0,
              "OccurrenceOffsets": [0], "SurfaceForms": ["Example"]}]
        ) if n % 2 else "[]"  # fmt: skip
        url = f"https://assets.msn.com/labs/mind/AA{n:04d}.html"
        title = f"Story {n}: a headline | PHOTOS"
        rows.append(f"N{n}\t{category}\t{sub}\t{title}\t{abstract}\t{url}\t{entities}\t[]")
    rows.append("N98\tnews\tnewsworld\t\tNo title here.\thttps://x.invalid/N98.html\t[]\t[]")
    return "\n".join(rows) + "\n"


def _time(k: int) -> str:
    hour = 1 + k % 12
    return f"11/{9 + k // 8}/2019 {hour}:{k % 60:02d}:51 {'AM' if k % 2 else 'PM'}"


def _behaviors_tsv() -> str:
    rows = []
    # 16 regular impressions by users U0..U5: kept; each drops one unclicked English-only entry.
    for k in range(16):
        history = f"N{1 + k % 20} N{2 + k % 20}"
        shown = f"N{21 + k % 10}-1 N{11 + k % 10}-0 N{31 + k % 10}-0"
        rows.append(f"{100 + k}\tU{k % 6}\t{_time(k)}\t{history}\t{shown}")
    rows += [
        f"200\tU6\t{_time(1)}\t\tN1-1 N2-0",  # empty history
        f"201\tU6\t{_time(2)}\tN31 N32\tN1-1 N2-0",  # no history news with Chinese text (2 entries)
        f"202\tU7\t{_time(3)}\tN1\tN31-1 N2-0",  # no clicked candidate with Chinese (1 entry)
        f"203\tU7\t{_time(4)}\tN1\tN3-1 N32-0",  # no unclicked candidate with Chinese (1 entry)
        f"204\tU7\t{_time(5)}\tN1\tN3-1 N4-x",  # malformed candidate entry
        f"205\tU8\t{_time(6)}\tN1 N41\tN3-1 N3-0 N4-0",  # kept; a duplicate, a history entry
        f"206\tU8\t{_time(7)}\tN1",  # malformed line (4 fields)
        "207\tU8\tyesterday\tN1\tN3-1 N4-0",  # invalid time
        f"208\tU9\t{_time(8)}\tN99 N5\tN6-1 N7-0 N45-1",  # kept; a history and a clicked entry
    ]
    return "\n".join(rows) + "\n"


# ---- KMRD ----------------------------------------------------------------------------------
# (movie, Korean title, title_eng, Korean release year, grade, countries, genres)
KMRD_FILMS: list[tuple[str, str, str, str, str, list[str], list[str]]] = [
    ("10001", "별빛 항구", "Starlight Harbor , 1991", "1992", "15세 관람가",
     ["한국"], ["드라마", "멜로/로맨스"]),
    ("10002", "작은 나날", "Les Petits Jours , Small Days , 1987", "", "NR",
     ["프랑스", "이탈리아"], ["드라마"]),
    ("10003", "등대지기", "The Lighthouse Keeper , 1990", "1990", "전체 관람가",
     ["미국"], ["드라마"]),
    ("10004", "일곱 강", "Sept Rivières , Seven Rivers , 1994", "", "12세 관람가",
     ["프랑스"], ["드라마"]),
    ("10005", "쌍둥이 영화", "Twin Film , 1993", "1994", "PG", ["미국"], ["코미디"]),  # 2 ML films
    ("10006", "다른 해", "Other Year , 1980", "1981", "", ["영국"], ["SF"]),  # ML's is 1981
    ("10007", "제목만", "Untitled Dream", "2001", "", ["국가불명"], ["코미디"]),  # no year
    ("10008", "", "Only English Title , 1999", "", "PG-13", ["아이슬란드", "미국"], ["액션"]),
    ("10009", "", "", "", "", [], []),  # no title at all
    ("10010", "홍콩 야경", "夜景 , Night View , 1989", "2016", "청소년 관람불가",
     ["홍콩"], ["느와르"]),
    ("10011", "메아리", "Echo , 1995", "1996", "NR", ["한국"], ["스릴러"]),  # both claim ML 9
    ("10012", "메아리 감독판", "Echo , 1995", "", "NR", ["한국"], ["스릴러"]),
    *[
        (str(10013 + n), f"서울의 봄날 {n}", f"Seoul Spring {n} , {2001 + n}", "", "15세 관람가",
         ["한국"], [["드라마", "코미디", "액션"][n % 3]])
        for n in range(8)
    ],
]  # fmt: skip


def _kmrd_rates_csv() -> str:
    rows = ["user,movie,rate,time"]
    for user in range(8):
        for j in range(5):
            movie = 10001 + (user * 3 + j) % 20  # 10009 (no title) only for user 2
            rows.append(f"{user},{movie},{1 + (user + j) % 10},{1494128040 + user * 3600 + j * 60}")
    rows.append("3,10099,8,1500000000")  # a film movies.txt does not describe
    return "\n".join(rows) + "\n"


# ---- MovieLens-100K (RecBole atomic files) -------------------------------------------------
ML_FILMS = [
    ("1", "Starlight Harbor", "1991", "Drama Romance"),
    ("2", "Small Days (Les petits jours)", "1987", "Drama"),
    ("3", "Lighthouse Keeper, The", "1990", "Drama"),
    ("4", "Seven Rivers (Sept Rivieres)", "1994", "Drama"),
    ("5", "Twin Film", "1993", "Comedy"),
    ("6", "Twin Film", "1993", "Comedy Drama"),
    ("7", "Other Year", "1981", "Sci-Fi"),
    ("8", "Night View", "1989", "Crime Film-Noir"),
    ("9", "Echo", "1995", "Thriller"),
    ("10", "Misérables Again, Les", "1995", "Drama Musical"),
    ("11", "Children's Hour", "1996", "Children's Comedy"),
    ("12", "unkonwn", "unkonwn", "unknown"),  # as in the real file
    *[(str(13 + n), f"Prairie Song {n}", str(1990 + n), "Western") for n in range(8)],
]


def _ml_inter() -> str:
    rows = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for user in range(1, 7):
        for j in range(6):
            item = 1 + (user * 4 + j) % 20
            rows.append(f"{user}\t{item}\t{1 + (user + j) % 5}\t{881250000 + user * 1000 + j * 10}")
    rows.append("2\t99\t4\t881259999")  # a film the item file does not describe
    return "\n".join(rows) + "\n"


def _ml_user() -> str:
    rows = ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"]
    jobs = ["technician", "other", "writer", "student"]
    for user in range(1, 9):  # users 7 and 8 rate nothing (held out)
        rows.append(f"{user}\t{20 + user}\t{'MF'[user % 2]}\t{jobs[user % 4]}\t{85700 + user}")
    return "\n".join(rows) + "\n"


def build_shared_data(root: Path) -> Path:
    """Write the small shared-data folder under `root` and return `root`."""
    for folder in ("mind", "xmind_zh", "kmrd", "ml100k"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "mind" / "behaviors.tsv").write_text(_behaviors_tsv(), encoding="utf-8")
    (root / "mind" / "news.tsv").write_text(_mind_news_tsv(), encoding="utf-8")
    with zipfile.ZipFile(root / "xmind_zh" / "xMINDsmall_dev.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo("xMINDsmall_dev/"), b"")
        archive.writestr(
            "xMINDsmall_dev/news.tsv", _xmind_tsv().encode("utf-8"), zipfile.ZIP_DEFLATED
        )
    films = [
        "\t".join(["movie", "title", "title_eng", "year", "grade"]),
        *("\t".join(film[:5]) for film in KMRD_FILMS),
    ]
    (root / "kmrd" / "movies.txt").write_text("\n".join(films) + "\n", encoding="utf-8")
    countries = ["movie,country", *(f"{f[0]},{c}" for f in KMRD_FILMS for c in f[5])]
    (root / "kmrd" / "countries.csv").write_text("\n".join(countries) + "\n", encoding="utf-8")
    genres = ["movie,genre", *(f"{f[0]},{g}" for f in KMRD_FILMS for g in f[6])]
    (root / "kmrd" / "genres.csv").write_text("\n".join(genres) + "\n", encoding="utf-8")
    (root / "kmrd" / "rates.csv").write_text(_kmrd_rates_csv(), encoding="utf-8")
    items = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    items += ["\t".join(film) for film in ML_FILMS]
    (root / "ml100k" / "ml-100k.item").write_text("\n".join(items) + "\n", encoding="utf-8")
    (root / "ml100k" / "ml-100k.inter").write_text(_ml_inter(), encoding="utf-8")
    (root / "ml100k" / "ml-100k.user").write_text(_ml_user(), encoding="utf-8")
    return root
