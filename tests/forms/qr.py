"""Read back the QR codes provisioning writes: the PNG's modules, then the
text they hold, so the tests check the payload in the picture and not the
string it was made from.

Unlike a phone's scanner, it reads only a clean, exact symbol: no error
correction (the symbol is read as written), and only byte mode, the mode segno
writes our base64 payloads in (lowercase letters rule out alphanumeric mode).
The decoding follows ISO/IEC 18004; the block tables are its table 9."""

import struct
import zlib
from pathlib import Path

# Error-correction codewords per block and number of blocks, by level and version.
ECC_PER_BLOCK = {
    "L": (7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28,
          28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
          30, 30),
    "M": (10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26,
          26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
          28, 28),
    "Q": (13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26,
          30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
          30, 30),
    "H": (17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26,
          28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
          30, 30),
}  # fmt: skip
BLOCKS = {
    "L": (1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12,
          12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25),
    "M": (1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18,
          20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49),
    "Q": (1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23,
          25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68),
    "H": (1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34,
          30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81),
}  # fmt: skip
LEVELS = {0b01: "L", 0b00: "M", 0b11: "Q", 0b10: "H"}
MASKS = (
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
)


def png_modules(path: Path, *, scale: int, border: int) -> list[list[bool]]:
    """Dark modules of a 1-bit grayscale PNG (filters None and Up, the two
    segno writes), sampled at each module's centre."""
    data, pos, idat, width = path.read_bytes(), 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        idat += body if kind == b"IDAT" else b""
        if kind == b"IHDR":
            (width,) = struct.unpack(">I", body[:4])
        pos += 12 + length
    raw, stride = zlib.decompress(idat), (width + 7) // 8
    rows, previous = [], bytes(stride)
    for y in range(width):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        current = line[1:]
        if line[0] == 2:
            current = bytes(
                (a + b) & 0xFF for a, b in zip(current, previous, strict=True)
            )
        rows.append(current)
        previous = current
    size = width // scale - 2 * border

    def dark(r: int, c: int) -> bool:
        y, x = ((border + i) * scale + scale // 2 for i in (r, c))
        return not (rows[y][x // 8] >> (7 - x % 8)) & 1

    return [[dark(r, c) for c in range(size)] for r in range(size)]


def decode(modules: list[list[bool]]) -> str:
    """The text a clean QR symbol holds (modules[row][column], True = dark)."""
    size = len(modules)
    version = (size - 17) // 4
    level, mask = _format(modules)
    function = _function_modules(version)
    bits = []
    for x, y in _zigzag(size):
        if not function[y][x]:
            bits.append(modules[y][x] ^ MASKS[mask](x, y))
    codewords = [
        int("".join("1" if b else "0" for b in bits[i : i + 8]), 2)
        for i in range(0, len(bits) - 7, 8)
    ]
    return _segments(_data_codewords(codewords, version, level), version)


def _format(modules) -> tuple[str, int]:
    # The first copy beside the top-left finder: bits 14..10 at row 8, columns
    # 0-5 then 7 (read here most significant first), masked by 0x5412.
    cells = [(8, c) for c in (0, 1, 2, 3, 4, 5, 7)]
    value = sum(modules[r][c] << (14 - i) for i, (r, c) in enumerate(cells))
    top = (value ^ 0x5412) >> 10
    return LEVELS[top >> 3], top & 0b111


def _alignment_positions(version: int) -> list[int]:
    if version == 1:
        return []
    count = version // 7 + 2
    size = version * 4 + 17
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    return [6] + [size - 7 - step * i for i in range(count - 2, -1, -1)]


def _function_modules(version: int) -> list[list[bool]]:
    size = version * 4 + 17
    taken = [[False] * size for _ in range(size)]

    def mark(x0: int, y0: int, width: int, height: int) -> None:
        for y in range(max(0, y0), min(size, y0 + height)):
            for x in range(max(0, x0), min(size, x0 + width)):
                taken[y][x] = True

    mark(0, 6, size, 1)
    mark(6, 0, 1, size)
    for x, y in ((0, 0), (size - 8, 0), (0, size - 8)):
        mark(x, y, 8, 8)
    mark(0, 8, 9, 1)
    mark(8, 0, 1, 9)
    mark(size - 8, 8, 8, 1)
    mark(8, size - 8, 1, 8)
    positions = _alignment_positions(version)
    last = len(positions) - 1
    for i, cy in enumerate(positions):
        for j, cx in enumerate(positions):
            if (i, j) not in ((0, 0), (0, last), (last, 0)):
                mark(cx - 2, cy - 2, 5, 5)
    if version >= 7:
        mark(size - 11, 0, 3, 6)
        mark(0, size - 11, 6, 3)
    return taken


def _zigzag(size: int):
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = (right + 1) & 2 == 0
        for vert in range(size):
            y = size - 1 - vert if upward else vert
            for x in (right, right - 1):
                yield x, y
        right -= 2


def _data_codewords(codewords: list[int], version: int, level: str) -> list[int]:
    blocks = BLOCKS[level][version - 1]
    ecc = ECC_PER_BLOCK[level][version - 1]
    raw = _raw_codewords(version)
    short = blocks - raw % blocks
    lengths = [raw // blocks - ecc + (i >= short) for i in range(blocks)]
    data: list[list[int]] = [[] for _ in range(blocks)]
    stream = iter(codewords)
    for i in range(max(lengths)):
        for b in range(blocks):
            if i < lengths[b]:
                data[b].append(next(stream))
    return [c for block in data for c in block]


def _raw_codewords(version: int) -> int:
    modules = (16 * version + 128) * version + 64
    if version >= 2:
        count = version // 7 + 2
        modules -= (25 * count - 10) * count - 55
        if version >= 7:
            modules -= 36
    return modules // 8


def _segments(data: list[int], version: int) -> str:
    bits = "".join(f"{c:08b}" for c in data)
    pos, text = 0, []

    def take(n: int) -> int:
        nonlocal pos
        pos += n
        return int(bits[pos - n : pos], 2)

    size = 0 if version < 10 else 1 if version < 27 else 2
    while pos + 4 <= len(bits):
        mode = take(4)
        if mode == 0b0000:
            break
        if mode == 0b0100:
            count = take((8, 16, 16)[size])
            text.append(bytes(take(8) for _ in range(count)).decode("utf-8"))
        else:
            raise ValueError(f"QR mode {mode:04b} is not read here")
    return "".join(text)
