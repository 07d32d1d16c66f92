"""Properties of evidence and of the sentences built from it, for any locale, category, words
and history (a stand-in vector source for speed; tests/explain/test_evidence.py uses real ones)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from babelrec.evidence import CultureEvidence, Evidence, HistoryEvidence, InterestEvidence
from babelrec.explain.culture import percent
from babelrec.explain.evidence import MAX_PHRASES, PHRASE_LIMIT, phrases
from babelrec.explain.explainer import Explainer
from babelrec.llm.prompting import clean
from babelrec.models import Explanation, Item, UserProfile
from babelrec.prompts.loader import EXPLAIN_SENTENCES, LOCALES, PromptLoader
from tests.explain.vectors import SameVectors

EVIDENCE = st.one_of(
    st.builds(
        HistoryEvidence,
        item_id=st.text(min_size=1, max_size=8),
        title=st.text(max_size=20),
        similarity=st.floats(-1, 1),
    ),
    st.builds(
        InterestEvidence, phrase=st.text(min_size=1, max_size=20), similarity=st.floats(-1, 1)
    ),
    st.builds(
        CultureEvidence,
        text=st.text(min_size=1, max_size=20),
        source=st.sampled_from(["catalog region", "catalog language", "history share", "holidays"]),
        origin=st.none() | st.sampled_from(["TR", "DE", "zh"]),
        share=st.none() | st.floats(0, 1),
        holiday=st.none() | st.text(max_size=10),
    ),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(EVIDENCE, max_size=5))
def test_evidence_reads_back_as_the_same_typed_entries(entries: list[Evidence]) -> None:
    explanation = Explanation(text="x", language="en", source="template", evidence=entries)
    again = Explanation.model_validate_json(explanation.model_dump_json())
    assert again == explanation
    assert [type(e) for e in again.evidence] == [type(e) for e in entries]


def test_evidence_refuses_unknown_kinds_and_fields() -> None:
    adapter: TypeAdapter[Evidence] = TypeAdapter(Evidence)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "vibes", "text": "x"})
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "interest", "phrase": "x", "similarity": 0.5, "why": 1})
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "history", "item_id": "a", "title": "t", "similarity": 2})
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "culture", "text": "x", "source": "stereotype"})
    entry = adapter.validate_python({"kind": "interest", "phrase": "Autos", "similarity": 0.4})
    assert isinstance(entry, InterestEvidence)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_phrases_are_pieces_of_the_users_words(text: str) -> None:
    found = phrases(text)
    assert len(found) <= MAX_PHRASES and len(set(found)) == len(found)
    said = clean(text)
    for phrase in found:
        assert phrase and len(phrase) <= PHRASE_LIMIT
        assert phrase in said or phrase in " ".join(said.split())


LOCALE = st.one_of(st.sampled_from(LOCALES), st.sampled_from(["de", "tr", "fr", "sw"]))
REGION = st.none() | st.sampled_from(["DE", "TR", "CN", "ES", "BR", "ZZ"])
LANGUAGE = st.none() | st.sampled_from(["de", "tr", "zh", "es", "en"])


@settings(max_examples=150, deadline=None)
@given(
    locale=LOCALE,
    user_region=REGION,
    interests=st.text(max_size=40),
    category=st.none() | st.text(max_size=20),
    region=REGION,
    language=LANGUAGE,
    history=st.lists(st.tuples(REGION, LANGUAGE), max_size=4),
)
def test_any_locale_and_category_get_an_explanation_from_the_evidence(
    locale: str,
    user_region: str | None,
    interests: str,
    category: str | None,
    region: str | None,
    language: str | None,
    history: list[tuple[str | None, str | None]],
) -> None:
    item = Item(id="pick", title="t", category=category, region=region, language=language)
    seen = [Item(id=f"h{i}", title=f"seen {i}", region=r, language=lang)
            for i, (r, lang) in enumerate(history)]  # fmt: skip
    user = UserProfile(language=locale, region=user_region, interests=interests)
    [explanation] = Explainer().explain(user, [item], seen, SameVectors())
    kinds = [e.kind for e in explanation.evidence]
    assert explanation.text and len(explanation.text) <= 600
    assert explanation.language == (locale if locale in LOCALES else "en")
    # history evidence exactly when there is history; never more than two items
    assert ("history" in kinds) == bool(seen) and kinds.count("history") <= 2
    # interest evidence exactly when the user said something
    assert ("interest" in kinds) == bool(phrases(interests))
    # a cultural note exactly when the item comes from elsewhere, with the measured share
    notes = [e for e in explanation.evidence if isinstance(e, CultureEvidence)]
    other_language = bool(language and language != locale)
    # a region counts as elsewhere against the user's region, or (none stated) with its language
    foreign_region = bool(region and region != user_region and (user_region or other_language))
    foreign = foreign_region or other_language
    assert bool(notes) == foreign
    for note in notes:
        assert note.text in explanation.text
        if seen:
            assert note.source == "history share" and note.share is not None
            attribute = "region" if foreign_region else "language"
            expected = sum(getattr(h, attribute) == note.origin for h in seen) / len(seen)
            assert note.share == pytest.approx(expected)
        else:
            assert note.source in ("catalog region", "catalog language") and note.share is None


@settings(max_examples=60, deadline=None)
@given(
    locale=st.sampled_from(LOCALES),
    value=st.text(min_size=1, max_size=12).filter(lambda v: "{" not in v and "}" not in v),
    share=st.integers(0, 100),
)
def test_every_locale_has_every_evidence_sentence(locale: str, value: str, share: int) -> None:
    template = PromptLoader().load("explain", locale)
    assert set(EXPLAIN_SENTENCES) <= set(template.sentences)
    for name, fields in EXPLAIN_SENTENCES.items():
        values = {f: (f"{share}%" if f == "share" else value) for f in fields}
        text = template.sentence(name, **values)
        assert all(v in text for v in values.values())


@given(st.floats(0, 1))
def test_a_share_is_said_as_a_percentage_that_is_never_misleading(share: float) -> None:
    said = percent(share)
    value = int(said.rstrip("%"))
    assert 0 <= value <= 100 and abs(value - 100 * share) < 1.5
    if 0 < share < 1:
        assert said not in ("0%", "100%")
