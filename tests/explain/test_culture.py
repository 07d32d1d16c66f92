"""Holidays the item names, from the `holidays` library, in the reader's language and script."""

from __future__ import annotations

from babelrec.explain.culture import holiday_mentions, holiday_names
from babelrec.explain.explainer import Explainer
from babelrec.models import Item, UserProfile

BAYRAM = Item(id="tr", title="Ramazan Bayramı'nda tatil yoğunluğu", language="tr", region="TR")
EINHEIT = Item(id="de", title="Feiern zum Tag der Deutschen Einheit", language="de", region="DE")
GUOQING = Item(id="cn", title="国庆节假期出游人数创新高", language="zh", region="CN")


def test_a_named_holiday_is_given_in_the_readers_language_where_the_library_has_it() -> None:
    assert holiday_mentions(BAYRAM, "en") == [("Eid al-Fitr", "Ramazan Bayramı")]
    assert holiday_mentions(BAYRAM, "tr") == [("Ramazan Bayramı", "Ramazan Bayramı")]
    # no German names for Türkiye's holidays in the library: the item's own words
    assert holiday_mentions(BAYRAM, "de") == [("Ramazan Bayramı", "Ramazan Bayramı")]
    assert holiday_mentions(EINHEIT, "en") == [("German Unity Day", "Tag der Deutschen Einheit")]
    assert holiday_mentions(GUOQING, "zh", "Hant") == [("國慶日", "国庆节")]


def test_no_holiday_without_a_region_a_known_country_or_a_mention() -> None:
    assert holiday_mentions(BAYRAM.model_copy(update={"region": None}), "en") == []
    assert holiday_mentions(BAYRAM.model_copy(update={"region": "ZZ"}), "en") == []
    assert holiday_names("ZZ", 2026) == ()
    plain = Item(id="x", title="Borsa güne yükselişle başladı", language="tr", region="TR")
    assert holiday_mentions(plain, "en") == []
    # a swapped working day ("休息日（由 … 调休）") is no holiday name
    names = {name for entry in holiday_names("CN", 2026) for name in entry.values()}
    assert "春节" in names and not any("调休" in n or n == "休息日" for n in names)


def test_the_holiday_note_is_culture_evidence_from_the_holidays_source() -> None:
    readers = {
        "en": "Eid al-Fitr (Ramazan Bayramı)",
        "zh": "Ramazan Bayramı",
        "tr": "Ramazan Bayramı",
    }
    for language, holiday in readers.items():
        user = UserProfile(language=language, region="DE")
        [explanation] = Explainer().explain(user, [BAYRAM])
        [note] = [e for e in explanation.evidence if e.kind == "culture" and e.source == "holidays"]
        assert note.holiday == holiday and note.origin == "TR"  # type: ignore[union-attr]
        assert holiday in explanation.text
    [zh] = Explainer().explain(UserProfile(language="zh-Hant", region="TW"), [GUOQING])
    [note] = [e for e in zh.evidence if e.kind == "culture" and e.source == "holidays"]
    assert note.holiday == "國慶日 (國慶節)" and "國慶日" in zh.text  # type: ignore[union-attr]
