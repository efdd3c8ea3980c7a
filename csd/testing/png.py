"""Reading a PNG's size without an image library."""

import struct
from pathlib import Path


def png_size(path) -> tuple[int, int]:
    """(width, height) from the PNG header, after checking the signature."""
    data = Path(path).read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{Path(path).name} is not a PNG"
    return struct.unpack(">II", data[16:24])
