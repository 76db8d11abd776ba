"""`strata-dump inspect FILE --memory --svg OUT`: memory by key prefix drawn as an icicle
chart. The file must be well-formed SVG with a box per prefix sized by bytes, coloured by
type, with hover titles, using nothing from the network; and Debian's chromium, run
headless, must render it (the screenshot holds the colours of the types drawn)."""
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import pytest

from conftest import fill
from test_strata_dump import DUMP

SVG = "{http://www.w3.org/2000/svg}"
STRING_COLOUR = (0xE8, 0xA3, 0x3D)
HASH_COLOUR = (0x4E, 0x9A, 0x5A)


@pytest.fixture
def snapshot(start_server):
    server = start_server("--save", "", "--appendonly", "no")
    r = server.client()
    fill(r, 20_000, prefix="user:", value="x" * 200)  # the biggest share: strings
    pipe = r.pipeline(transaction=False)
    for i in range(2_000):
        pipe.hset(f"cart:{i}:items", mapping={f"sku{j}": "1" for j in range(20)})
    for i in range(50):
        pipe.zadd(f"board:{i}", {f"player{j}": j for j in range(100)})
    pipe.set("odd<&>\"key", "v")
    pipe.set("big:one:blob", "b" * 1_000_000)
    pipe.execute()
    r.save()
    return os.path.join(server.workdir, "dump.sdb")


def picture(snapshot, tmp_path, *extra):
    out = tmp_path / "memory.svg"
    result = subprocess.run([DUMP, "inspect", snapshot, "--memory", "--svg", str(out), *extra],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out


def test_the_svg_is_sized_by_bytes_coloured_by_type_and_titled(snapshot, tmp_path):
    out = picture(snapshot, tmp_path, "--depth", "2")
    text = out.read_text()
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    root = ET.fromstring(text)  # well-formed, special characters escaped
    boxes = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title").text
        rect = group.find(f"{SVG}rect")
        boxes[title.split("\n")[0]] = (float(rect.get("width")), rect.get("fill"), title)
    whole, users, carts = boxes["all keys"], boxes["user:"], boxes["cart:"]
    assert whole[0] > 1100
    # Widths follow bytes: the strings outweigh the hashes, and both sit inside the whole.
    assert users[0] > carts[0] > 0 and users[0] + carts[0] <= whole[0]
    assert users[1] == "#e8a33d" and carts[1] == "#4e9a5a" and boxes["board:"][1] == "#c0504d"
    assert "20000 keys" in users[2] and "%" in users[2]
    # Second level: big:one: below big:, and the key below that; boxes under a pixel wide
    # (each of the 20,000 user keys) are not drawn.
    assert boxes["big:one:"][0] > 50 and "big:one:blob" in boxes
    assert "user:7" not in boxes


def png_pixels(path):
    """RGB pixels of an 8-bit RGB or RGBA PNG (what chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks += body
        position += 12 + length
    width, height, depth, colour_type = header[:4]
    assert depth == 8 and colour_type in (2, 6)
    channels = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(chunks), width * channels
    pixels, previous = [], bytearray(stride)
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, channels))
        previous = line
    return pixels


def test_a_headless_browser_renders_it(snapshot, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is required (apt-get install chromium)")
    out = picture(snapshot, tmp_path)
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
         "--window-size=1200,200", f"file://{out}"],
        capture_output=True, text=True, timeout=120)
    assert shot.exists(), result.stderr
    pixels = png_pixels(shot)
    counts = {colour: sum(1 for p in pixels if p == colour) for colour in (STRING_COLOUR, HASH_COLOUR)}
    # Drawn: a wide band of the strings' colour, a narrower one of the hashes'.
    assert counts[STRING_COLOUR] > counts[HASH_COLOUR] > 100, counts
