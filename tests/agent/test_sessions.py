from __future__ import annotations

from pathlib import Path

import pytest

from babelrec.agent.sessions import SessionStore
from babelrec.agent.state import ConversationState
from babelrec.errors import BabelrecError


def test_state_and_turns_survive_a_new_store_object(tmp_path: Path) -> None:
    store = SessionStore.in_dir(tmp_path)
    state = ConversationState(language="zh", candidates=["a", "b"])
    state.constraints.include("languages", ["en"])
    store.save("s1", state)
    store.log("s1", "user", "只要英文的")
    store.log("s1", "assistant", "好的")

    again = SessionStore.in_dir(tmp_path)
    assert again.load("s1") == state
    assert again.turns("s1") == [("user", "只要英文的"), ("assistant", "好的")]
    assert again.turns("s1", last=1) == [("assistant", "好的")]
    assert again.load("other") is None
    assert again.ids() == ["s1"]
    again.delete("s1")
    assert again.load("s1") is None and again.turns("s1") == []


def test_an_unwritable_place_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BabelrecError, match="data-dir"):
        SessionStore(blocker / "sessions.sqlite")
