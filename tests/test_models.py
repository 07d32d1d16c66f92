from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from babelrec.models import Item, Translation

ITEM_EXAMPLES = 200
METADATA = st.dictionaries(
    st.text(max_size=6),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    ),
    max_size=4,
)


def test_null_means_absent_for_every_optional_field() -> None:
    item = Item.model_validate(
        {
            "id": "a",
            "title": "T",
            "text": None,
            "language": None,
            "region": None,
            "category": None,
            "tags": None,
            "metadata": None,
        }
    )
    assert item == Item(id="a", title="T")
    with_inner = Item.model_validate(
        {"id": "a", "title": "T", "tags": ["x", None], "metadata": {"k": None, "n": 1}}
    )
    assert with_inner.tags == ["x"] and with_inner.metadata == {"n": 1}


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_metadata_is_refused_naming_the_key(number: float) -> None:
    with pytest.raises(ValidationError, match="'popularity' is (nan|inf|-inf), which JSON"):
        Item(id="a", title="T", metadata={"popularity": number})


@pytest.mark.parametrize("field", ["text", "category", "tags", "metadata", "translations"])
def test_lone_surrogates_are_refused_naming_the_field(field: str) -> None:
    value: object = {
        "text": "a\ud800",
        "category": "\udfff",
        "tags": ["\ud800"],
        "translations": {"en": {"title": "T\ud800"}},
    }.get(field, {"k\ud800": 1})
    with pytest.raises(ValidationError, match=f"{field}.* holds a lone surrogate"):
        Item.model_validate({"id": "a", "title": "T", field: value})


def test_a_translation_made_directly_refuses_a_lone_surrogate() -> None:
    with pytest.raises(ValidationError, match="text holds a lone surrogate"):
        Translation(title="T", text="a\udc00")


@pytest.mark.parametrize("field", ["text", "category", "tags", "metadata"])
@pytest.mark.parametrize("written_as", ["escape", "character"])
def test_lone_surrogates_in_json_are_refused(field: str, written_as: str) -> None:
    """JSON input skips the per-string check (stored items are read on every query): pydantic's
    parser must refuse an escaped lone surrogate and a raw one in a `str` alike."""
    lone = "\\ud800" if written_as == "escape" else "\ud800"
    value = {"text": f'"a{lone}"', "category": f'"{lone}"', "tags": f'["{lone}"]'}.get(
        field, f'{{"k{lone}": 1}}'
    )
    with pytest.raises(ValidationError):
        Item.model_validate_json(f'{{"id": "a", "title": "T", "{field}": {value}}}')


@settings(max_examples=ITEM_EXAMPLES, deadline=None)
@given(
    title=st.text(min_size=1, max_size=20),
    text=st.one_of(st.none(), st.text(max_size=20)),
    tags=st.one_of(st.none(), st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=3)),
    metadata=st.one_of(st.none(), METADATA),
)
def test_an_accepted_item_survives_its_own_json(
    title: str, text: str | None, tags: list[str | None] | None, metadata: dict[str, object] | None
) -> None:
    """Whatever `Item` accepts, its JSON (what the store keeps) reads back as the same item
    with the same content hash; what it cannot represent it refuses."""
    row = {"id": "x", "title": title, "text": text, "tags": tags, "metadata": metadata}
    try:
        item = Item.model_validate(row)
    except ValidationError:
        finite = all(
            not isinstance(v, float) or math.isfinite(v) for v in (metadata or {}).values()
        )
        assert not title.strip() or not finite
        return
    back = Item.model_validate_json(item.model_dump_json())
    assert back == item
    assert back.content_hash() == item.content_hash()
