"""Reading just enough of a GGUF file's header to tell whether the file is whole.

A GGUF file starts with the magic ``GGUF``, a version, its tensor and metadata counts, the
metadata, then one record per tensor (name, shape, type, offset into the data section). The
data section starts at the next multiple of ``general.alignment`` (32 unless set) after the
records, so the header alone says how long the complete file is, as long as every tensor type
is one whose block size is listed below (else `expected_size` is None and only the magic is
checked).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from babelrec.errors import ModelInstallError

MAGIC = b"GGUF"
VERSIONS = (2, 3)

# ggml type id -> (elements per block, bytes per block), from ggml.h / gguf constants.
_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 36),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    30: (1, 2),  # BF16
}
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
_MAX_COUNT = 1 << 40  # more tensors, keys or array items than this: not a real header
_MAX_STRING = 1 << 24  # a longer key, value or tensor name: not a real header


@dataclass(frozen=True)
class GGUFHeader:
    version: int
    tensors: int
    architecture: str | None
    expected_size: int | None  # bytes of the whole file, None when a tensor type is unknown


class _Reader:
    def __init__(self, stream: BinaryIO, source: str) -> None:
        self.stream = stream
        self.source = source

    def read(self, fmt: str) -> int | float | bool:
        size = struct.calcsize("<" + fmt)
        data = self.stream.read(size)
        if len(data) != size:
            raise ModelInstallError(f"{self.source}: the GGUF header ends early (file cut short)")
        value: int | float | bool = struct.unpack("<" + fmt, data)[0]
        return value

    def count(self) -> int:
        value = int(self.read("Q"))
        if value > _MAX_COUNT:
            raise ModelInstallError(f"{self.source}: implausible GGUF header count {value}")
        return value

    def string(self) -> str:
        size = self.count()
        if size > _MAX_STRING:
            raise ModelInstallError(f"{self.source}: implausible GGUF string length {size}")
        data = self.stream.read(size)
        if len(data) != size:
            raise ModelInstallError(f"{self.source}: the GGUF header ends early (file cut short)")
        return data.decode("utf-8", "replace")

    def value(self, kind: int) -> object:
        if kind in _SCALARS:
            return self.read(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind = int(self.read("I"))
            for _ in range(self.count()):
                self.value(item_kind)
            return None
        raise ModelInstallError(f"{self.source}: unknown GGUF metadata type {kind}")


def check_magic(head: bytes, source: str) -> int:
    """The GGUF version in the first 8 bytes; a typed error if they are not a GGUF start."""
    if head[:4] != MAGIC:
        raise ModelInstallError(
            f"{source} does not start with the GGUF magic (found {head[:4]!r}): not a GGUF file, "
            "or its first part is not the first slice"
        )
    version = int.from_bytes(head[4:8], "little")
    if version not in VERSIONS:
        raise ModelInstallError(f"{source}: GGUF version {version} is not one of {VERSIONS}")
    return version


def read_header(path: Path) -> GGUFHeader:
    """Parse the header of the GGUF at `path` (the tensor data is not read)."""
    source = str(path)
    with path.open("rb") as stream:
        version = check_magic(stream.read(8), source)
        reader = _Reader(stream, source)
        tensors, keys = reader.count(), reader.count()
        alignment, architecture = 32, None
        for _ in range(keys):
            key = reader.string()
            value = reader.value(int(reader.read("I")))
            if key == "general.alignment" and isinstance(value, int) and value > 0:
                alignment = value
            elif key == "general.architecture" and isinstance(value, str):
                architecture = value
        end: int | None = 0
        for _ in range(tensors):
            reader.string()
            elements = 1
            for _ in range(int(reader.read("I"))):
                elements *= int(reader.read("Q"))
            kind, offset = int(reader.read("I")), int(reader.read("Q"))
            if kind not in _BLOCKS or end is None:
                end = None
                continue
            per_block, block_bytes = _BLOCKS[kind]
            end = max(end, offset + -(-elements // per_block) * block_bytes)
        header_end = stream.tell()
    data_start = -(-header_end // alignment) * alignment
    return GGUFHeader(
        version=version,
        tensors=tensors,
        architecture=architecture,
        expected_size=None if end is None else data_start + end,
    )
