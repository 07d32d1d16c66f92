"""`DisplayMaker`: each recommended item's title and summary in the reader's language and script.

In order: the item's own text when it is in the reader's language; the catalog's translation
(`Item.translations`); a machine translation from the cache (`babelrec translate`) or, when
`display.machine` is "request", made now for the top picks. Chinese text is written in the
reader's script with OpenCC (a script change is no translation: the source stays what it was). A
machine translation that fails its check (`check_translation`) is not shown: the original is,
with `fallback` set and the reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from babelrec.display.checks import check_translation
from babelrec.display.translator import TranslationCache, Translator, translate_cached
from babelrec.display_types import Display
from babelrec.errors import LLMError, LLMOutputError
from babelrec.i18n.chinese import Script, convert, reader_script
from babelrec.language_settings import DisplaySettings
from babelrec.models import Item, UserProfile

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def summary_of(text: str, sentences: int = 2, limit: int = 240) -> str:
    """The first `sentences` sentences of `text`, at most `limit` characters (cut with "…")."""
    if sentences <= 0 or limit <= 0 or not text.strip():
        return ""
    parts = [p.strip() for p in _SENTENCE_END.split(" ".join(text.split())) if p.strip()]
    out = " ".join(parts[:sentences]) if parts else ""
    if any(_HAN.search(p) for p in parts[:sentences]):
        out = "".join(parts[:sentences])
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


def language_tag(language: str, script: Script | None) -> str:
    return f"{language}-{script}" if language == "zh" and script else language


class DisplayMaker:
    """Makes `Display` blocks; `translator` is None when no machine translation may be made or
    looked up (no LLM configured, or `display.machine` is "off")."""

    def __init__(
        self,
        settings: DisplaySettings,
        translator: Translator | None = None,
        cache: TranslationCache | None = None,
    ) -> None:
        self.settings = settings
        self.translator = translator if settings.machine != "off" else None
        self.cache = cache

    def displays(
        self, user: UserProfile, items: Sequence[Item], *, generate: bool = True
    ) -> list[Display]:
        """One display per item, in order. `generate=False` (or `display.machine` other than
        "request") only looks translations up; otherwise the first `display.top` items that
        need one are translated now."""
        generate = generate and self.settings.machine == "request"
        return [
            self.display(user, item, generate=generate and pos < self.settings.top)
            for pos, item in enumerate(items)
        ]

    def display(self, user: UserProfile, item: Item, *, generate: bool = False) -> Display:
        script = reader_script(user.language, user.script, user.interests)
        if user.language == "zh" and script is None:
            script = "Hans"  # the profile's rule: else Simplified
        want = language_tag(user.language, script)
        text = self._summary(item.text)
        if item.language == user.language or item.language is None:
            own = item.language is not None
            return Display(
                title=convert(item.title, script),
                summary=convert(text, script),
                language=want if own else "und",
                in_user_language=own,
                source="original",
            )
        translation = item.translations.get(user.language)
        if translation is not None:
            return Display(
                title=convert(translation.title, script),
                summary=convert(self._summary(translation.text), script),
                language=want,
                in_user_language=True,
                source="catalog",
            )
        original = Display(
            title=item.title,
            summary=text,
            language=item.language,
            in_user_language=False,
            source="original",
        )
        if self.translator is None:
            return original
        return self._machine(item, text, user.language, script, original, generate=generate)

    def _summary(self, text: str) -> str:
        return summary_of(text, self.settings.summary_sentences, self.settings.summary_chars)

    def _translated(self, text: str, source: str | None, target: str, generate: bool) -> str | None:
        """The raw translation, from the cache or (when `generate`) from the model."""
        assert self.translator is not None
        if not generate:
            if self.cache is None:
                return None
            return self.cache.get(self.translator.model_id, text, source, target)
        return translate_cached(self.translator, self.cache, text, source, target)

    def _machine(
        self,
        item: Item,
        summary: str,
        target: str,
        script: Script | None,
        original: Display,
        *,
        generate: bool,
    ) -> Display:
        assert self.translator is not None
        want = language_tag(target, script)
        pieces = [item.title, summary] if summary else [item.title]
        outputs: list[str] = []
        model = ""
        for piece in pieces:
            try:
                raw = self._translated(piece, item.language, target, generate)
                model = self.translator.model_id
            except LLMOutputError as exc:  # the model answered, but nothing usable
                logger.info("machine translation of %s refused: %s", item.id, exc)
                invalid = f"the model gave no valid answer in {exc.attempts} attempt(s)"
                return _flagged(original, invalid, self.translator.model_id)
            except LLMError as exc:
                logger.info("no machine translation of %s: %s", item.id, exc)
                return original
            if raw is None:
                return original  # not translated yet, and not to be made now
            out = convert(raw, script)
            reason = check_translation(piece, out, want)
            if reason is not None:
                logger.info("machine translation of %s refused: %s", item.id, reason)
                return _flagged(original, reason, model)
            outputs.append(out)
        return Display(
            title=outputs[0],
            summary=outputs[1] if len(outputs) > 1 else "",
            language=want,
            in_user_language=True,
            source="machine",
            model=model,
        )


def _flagged(original: Display, reason: str, model: str) -> Display:
    """The original, flagged: a machine translation was made and refused."""
    return original.model_copy(update={"fallback": True, "fallback_reason": reason, "model": model})


def as_shown(item: Item, display: Display) -> Item:
    """`item` with the text its reader is shown (its language, region and facts unchanged): what
    an explanation may quote."""
    if display.source == "original" and not display.in_user_language:
        return item
    return item.model_copy(update={"title": display.title, "text": display.summary})


def quotes_unreadable(text: str, item: Item, display: Display) -> bool:
    """True when `text` quotes `item`'s title in a language the reader did not ask for: a run of
    four characters of a Chinese, Japanese or Korean title, a word of three letters or more in
    another non-Latin script, or two words (or one long one) of a Latin title, that the shown
    title does not have."""
    if display.in_user_language and display.source == "original":
        return False
    title, shown = item.title, (display.title if display.in_user_language else "").casefold()
    if item.language in ("zh", "ja", "ko"):
        runs = {title[i : i + 4].strip() for i in range(max(0, len(title) - 3))}
        runs = {r for r in runs if len(r) >= 3 and not r.isascii()}
    else:
        words = re.findall(r"\w+", title)
        runs = {w for w in words if len(w) >= 3 and not w.isascii()}
        runs |= {w for w in words if len(w) >= 8}
        runs |= {f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if len(a + b) >= 8}
    lowered = text.casefold()
    return any(run.casefold() in lowered and run.casefold() not in shown for run in runs)
