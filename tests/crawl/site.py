"""A small multilingual web site served on 127.0.0.1 for the crawl tests.

Every page, feed and sitemap here is written for these tests. The server logs each request
(path, headers, time), answers conditional requests with 304, and has the awkward cases a
crawler meets: robots.txt rules, 404, 500, a redirect loop, a page of several megabytes, a feed
whose items repeat, a feed that is not XML, mislabelled charsets, a slow page.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    declare_length: bool = True  # False: no Content-Length, the body ends when the server closes


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    at: float
    status: int


ARTICLES: dict[str, dict[str, str]] = {
    "en-football": {
        "lang": "en",
        "title": "Tom &amp; Jerry&#39;s football final postponed by rain",
        "plain_title": "Tom & Jerry's football final postponed by rain",
        "author": "Alice Smith",
        "date": "2024-05-03T10:00:00+00:00",
        "body": "The football final between the two London clubs was postponed because of heavy "
        "rain. Thousands of fans waited for hours outside the stadium before the referee "
        "called the match off. The league will announce a new date for the final next week, "
        "and tickets remain valid for the rescheduled match.",
    },
    "es-ley": {
        "lang": "es",
        "title": "El Congreso aprueba una nueva ley de inteligencia artificial",
        "author": "María García",
        "date": "2024-04-20T08:30:00+00:00",
        "body": "El Congreso de los Diputados aprobó ayer una nueva ley que regula el uso de la "
        "inteligencia artificial en España. La norma obliga a las empresas a explicar cómo "
        "funcionan sus algoritmos y crea una agencia nacional de supervisión. Los expertos "
        "creen que la ley servirá de modelo para otros países europeos.",
    },
    "fr-chateau": {
        "lang": "fr",
        "title": "Le château de Chambord accueille une exposition d'été",
        "author": "Étienne Dubois",
        "date": "2024-06-01T09:00:00+00:00",
        "body": "Le château de Chambord ouvre cet été une grande exposition consacrée à la "
        "Renaissance française. Les visiteurs découvriront des tapisseries, des tableaux et des "
        "objets prêtés par des musées étrangers. L'exposition durera jusqu'à la fin du mois de "
        "septembre et les billets sont déjà en vente.",
    },
    "de-bahn": {
        "lang": "de",
        "title": "Die Bahn kündigt neue Schnellzüge zwischen Berlin und München an",
        "author": "Jürgen Müller",
        "date": "2024-03-15T12:00:00+00:00",
        "body": "Die Deutsche Bahn will ab dem nächsten Jahr neue Schnellzüge zwischen Berlin und "
        "München einsetzen. Die Fahrzeit soll auf unter vier Stunden sinken. Fahrgastverbände "
        "begrüßen die Pläne, fordern aber auch mehr Pünktlichkeit im Regionalverkehr.",
    },
    "zh-beijing": {
        "lang": "zh",
        "title": "北京举办国际图书博览会",
        "author": "王小明",
        "date": "2024-05-10T02:00:00+00:00",
        "body": "第三十届北京国际图书博览会今天在北京开幕，来自六十多个国家和地区的出版商参加了"
        "本届博览会。博览会展出了数十万种图书，吸引了大量读者和出版商。组织者表示，本届图书"
        "博览会的规模是历届最大的，数字出版成为今年的一大亮点。",
    },
    "ja-sakura": {
        "lang": "ja",
        "title": "東京で桜が満開、上野公園に花見客",
        "author": "山田太郎",
        "date": "2024-03-28T03:00:00+00:00",
        "body": "東京では二十八日、桜が満開になりました。上野公園には朝から多くの花見客が訪れ、"
        "満開の桜の下で食事を楽しみました。気象庁によりますと、今年の桜は例年より少し早く"
        "咲いたということです。公園の管理事務所は、花見客にごみの持ち帰りを呼びかけています。",
    },
    "ko-festival": {
        "lang": "ko",
        "title": "서울 광화문 광장에서 불꽃 축제 개막",
        "author": "김민수",
        "date": "2024-10-05T11:00:00+00:00",
        "body": "서울 광화문 광장에서 오늘 저녁 대규모 불꽃 축제가 개막했습니다. 수많은 시민과 "
        "관광객이 광장을 찾아 화려한 불꽃을 감상했습니다. 서울시는 축제 기간 동안 지하철 "
        "운행을 연장하고 안전 요원을 추가로 배치했다고 밝혔습니다.",
    },
    "ar-kitab": {
        "lang": "ar",
        "title": "افتتاح معرض القاهرة الدولي للكتاب بمشاركة واسعة",
        "author": "أحمد حسن",
        "date": "2024-01-25T07:00:00+00:00",
        "body": "افتتح اليوم معرض القاهرة الدولي للكتاب في دورته الجديدة بمشاركة مئات الناشرين من "
        "الدول العربية والأجنبية. ويضم المعرض آلاف العناوين في الأدب والعلوم والتاريخ. وقال "
        "المنظمون إن عدد الزوار هذا العام تجاوز كل التوقعات.",
    },
    "ru-metro": {
        "lang": "ru",
        "title": "В Москве открылись три новые станции метро",
        "author": "Иван Петров",
        "date": "2024-02-12T06:00:00+00:00",
        "body": "В Москве сегодня открылись три новые станции метро на Большой кольцевой линии. "
        "Мэр города заявил, что новые станции сократят время в пути для сотен тысяч жителей. "
        "До конца года планируется открыть ещё пять станций.",
    },
    "old-news": {
        "lang": "en",
        "title": "An old story about the harbour from long ago",
        "author": "Old Timer",
        "date": "2010-01-01T00:00:00+00:00",
        "body": "This story about the harbour was published long ago, when the old ferry still "
        "crossed the bay every hour. Fishermen sold their catch on the pier and tourists came "
        "to watch the boats. Today the harbour is a marina full of sailing yachts.",
    },
}


def article_html(slug: str, base: str, charset: str = "utf-8") -> str:
    a = ARTICLES[slug]
    paragraphs = "".join(f"<p>{a['body']}</p>" for _ in range(3))
    return (
        f'<!DOCTYPE html><html lang="{a["lang"]}"><head><meta charset="{charset}">'
        f"<title>{a['title']}</title>"
        f'<link rel="canonical" href="{base}/articles/{slug}.html">'
        f'<meta name="author" content="{a["author"]}">'
        f'<meta property="article:published_time" content="{a["date"]}">'
        "</head><body><nav><a href='/'>Home</a> | <a href='/about'>About</a></nav>"
        f"<article><h1>{a['title']}</h1>{paragraphs}</article>"
        "<footer>Copyright 2024 Example News</footer></body></html>"
    )


def rss(items: list[tuple[str, str, str]], encoding: str = "utf-8", title: str = "News") -> bytes:
    """RSS 2.0 with (link, title, RFC 822 date) items, encoded as declared."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate></item>"
        for link, t, d in items
    )
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>/</link><description>d</description>{entries}"
        "</channel></rss>"
    )
    return xml.encode(encoding)


def rfc822(slug: str) -> str:
    return format_datetime(
        datetime.fromisoformat(ARTICLES[slug]["date"]).astimezone(UTC), usegmt=True
    )


def build_site(base: str) -> dict[str, Page]:
    """Path -> page, with links absolute to `base` (http://127.0.0.1:PORT)."""
    pages: dict[str, Page] = {}
    for slug in (
        "en-football",
        "es-ley",
        "de-bahn",
        "ar-kitab",
        "ru-metro",
        "old-news",
        "ko-festival",
    ):
        pages[f"/articles/{slug}.html"] = Page(
            article_html(slug, base).encode("utf-8"), etag=f'"{slug}-v1"'
        )
    # Declared ISO-8859-1 in header and meta, sent as UTF-8.
    pages["/articles/fr-chateau.html"] = Page(
        article_html("fr-chateau", base, "iso-8859-1").encode("utf-8"),
        content_type="text/html; charset=ISO-8859-1",
        etag='"fr-v1"',
    )
    # Shift_JIS bytes, header says UTF-8 (the meta tag is right).
    pages["/articles/ja-sakura.html"] = Page(
        article_html("ja-sakura", base, "shift_jis").encode("shift_jis"),
        content_type="text/html; charset=utf-8",
        last_modified="Thu, 28 Mar 2024 03:00:00 GMT",
    )
    # GB18030 bytes, declared nowhere but a GB2312 meta.
    pages["/articles/zh-beijing.html"] = Page(
        article_html("zh-beijing", base, "gb2312").encode("gb18030"),
        content_type="text/html",
        etag='"zh-v1"',
    )
    pages["/robots.txt"] = Page(
        b"User-agent: *\nDisallow: /private/\n\nUser-agent: OtherBot\nDisallow: /\n",
        content_type="text/plain",
    )
    pages["/private/secret.html"] = Page(article_html("en-football", base).encode())
    pages["/articles/missing.html"] = Page(b"<html>gone</html>", status=404)
    pages["/articles/broken.html"] = Page(b"<html>oops</html>", status=500)
    pages["/loop/a"] = Page(b"", status=302, headers={"Location": "/loop/b"})
    pages["/loop/b"] = Page(b"", status=302, headers={"Location": "/loop/a"})
    pages["/moved/de-bahn"] = Page(b"", status=301, headers={"Location": "/articles/de-bahn.html"})
    filler = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + "</p>"
    pages["/articles/huge.html"] = Page(
        ("<html><head><title>Huge</title></head><body>" + filler * 6000 + "</body></html>").encode()
    )
    pages["/articles/huge-stream.html"] = Page(
        pages["/articles/huge.html"].body, declare_length=False
    )
    pages["/articles/slow.html"] = Page(article_html("en-football", base).encode(), delay=3.0)

    main_items = [
        (
            f"{base}/articles/en-football.html",
            ARTICLES["en-football"]["title"].replace("&", "&amp;"),
            rfc822("en-football"),
        ),
        (f"{base}/articles/es-ley.html", ARTICLES["es-ley"]["title"], rfc822("es-ley")),
        (f"{base}/articles/fr-chateau.html", ARTICLES["fr-chateau"]["title"], rfc822("fr-chateau")),
        (f"{base}/moved/de-bahn", ARTICLES["de-bahn"]["title"], rfc822("de-bahn")),
        (f"{base}/private/secret.html", "Secret", rfc822("en-football")),
        (f"{base}/articles/missing.html", "Missing", rfc822("en-football")),
        (f"{base}/articles/broken.html", "Broken", rfc822("en-football")),
        (f"{base}/loop/a", "Loop", rfc822("en-football")),
        (f"{base}/articles/huge.html", "Huge", rfc822("en-football")),
        (f"{base}/articles/old-news.html", ARTICLES["old-news"]["title"], rfc822("old-news")),
        # The same story again, and once more behind a tracking parameter.
        (f"{base}/articles/en-football.html", "Again", rfc822("en-football")),
        (f"{base}/articles/en-football.html?utm_source=feed", "Tracked", rfc822("en-football")),
    ]
    pages["/feeds/main.xml"] = Page(
        rss(main_items), content_type="application/rss+xml", etag='"main-v1"'
    )
    pages["/feeds/ja.xml"] = Page(
        rss(
            [
                (
                    f"{base}/articles/ja-sakura.html",
                    ARTICLES["ja-sakura"]["title"],
                    rfc822("ja-sakura"),
                )
            ],
            "shift_jis",
            "日本のニュース",
        ),
        content_type="application/rss+xml",
        last_modified="Thu, 28 Mar 2024 03:00:00 GMT",
    )
    atom = (
        '<?xml version="1.0" encoding="gb18030"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>中文新闻</title><id>urn:zh</id><updated>2024-05-10T02:00:00Z</updated>"
        f"<entry><title>{ARTICLES['zh-beijing']['title']}</title>"
        f'<link href="{base}/articles/zh-beijing.html"/><id>urn:zh:1</id>'
        "<updated>2024-05-10T02:00:00Z</updated><author><name>王小明</name></author></entry></feed>"
    )
    pages["/feeds/zh.xml"] = Page(
        atom.encode("gb18030"), content_type="application/atom+xml", etag='"zh-feed"'
    )
    pages["/feeds/broken.xml"] = Page(
        b'{"this": "is JSON, not a feed"} <rss', content_type="application/rss+xml"
    )
    sitemap = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/articles/ko-festival.html</loc><lastmod>2024-10-05</lastmod></url>"
        f"<url><loc>{base}/articles/ru-metro.html</loc></url></urlset>"
    )
    pages["/sitemaps/a.xml.gz"] = Page(
        gzip.compress(sitemap.encode()), content_type="application/gzip", etag='"sa"'
    )
    index = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/sitemaps/a.xml.gz</loc></sitemap></sitemapindex>"
    )
    pages["/sitemap_index.xml"] = Page(index.encode(), content_type="application/xml", etag='"idx"')
    return pages


class Site:
    """The running server: its base URL, its pages (editable between runs) and its request log."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: list[Hit] = []
        self.base = ""
        self._lock = threading.Lock()

    def requested(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                page = site.pages.get(self.path) or site.pages.get(self.path.split("?")[0])
                status = 404 if page is None else page.status
                not_modified = (
                    page is not None
                    and status == 200
                    and (
                        (page.etag and self.headers.get("If-None-Match") == page.etag)
                        or (
                            page.last_modified
                            and self.headers.get("If-Modified-Since") == page.last_modified
                        )
                    )
                )
                if not_modified:
                    status = 304
                with site._lock:
                    site.hits.append(Hit(self.path, dict(self.headers), time.monotonic(), status))
                if page is not None and page.delay:
                    time.sleep(page.delay)
                body = b"" if page is None or status == 304 else page.body
                if page is None:
                    body = b"<html>not found</html>"
                self.send_response(status)
                if page is not None:
                    self.send_header("Content-Type", page.content_type)
                    for key, value in page.headers.items():
                        self.send_header(key, value)
                    if page.etag:
                        self.send_header("ETag", page.etag)
                    if page.last_modified:
                        self.send_header("Last-Modified", page.last_modified)
                if page is None or page.declare_length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that stop reading (size limits, timeouts) reset the connection


@contextmanager
def serve(build: Callable[[str], dict[str, Page]] = build_site) -> Iterator[Site]:
    site = Site()
    server = _QuietServer(("127.0.0.1", 0), site.handler())
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    site.pages = build(site.base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
