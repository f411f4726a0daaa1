"""The vector clipping path: traced from the mask, written for Photoshop, read back by others.

Independent readers: ExifTool (Debian libimage-exiftool-perl) and ImageMagick
(Debian imagemagick). Their tests skip only when the program is not installed.
"""
from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, TiffImagePlugin

from rendering import photoshop
from rendering.clipping_path import (
    ClippingPath,
    embed_in_jpeg,
    embed_in_tiff,
    path_records,
    photoshop_resources,
    rasterize,
    read_path_records,
    to_svg,
    trace,
)

needs_exiftool = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="needs exiftool (Debian package libimage-exiftool-perl)"
)
needs_imagemagick = pytest.mark.skipif(
    shutil.which("identify") is None, reason="needs ImageMagick's identify and convert (Debian package imagemagick)"
)


# --- images made here ---------------------------------------------------------------------------


def shapes_mask(width: int = 600, height: int = 400, blur: float = 1.5) -> Image.Image:
    """Soft-edged: a ring (disc with a hole), a box with a round hole holding an island, small islands."""
    m = Image.new("L", (width, height), 0)
    d = ImageDraw.Draw(m)
    sx, sy = width / 600, height / 400
    d.ellipse([40 * sx, 40 * sy, 260 * sx, 300 * sy], fill=255)
    d.ellipse([100 * sx, 110 * sy, 200 * sx, 230 * sy], fill=0)
    d.polygon([(300 * sx, 50 * sy), (560 * sx, 80 * sy), (540 * sx, 320 * sy), (320 * sx, 300 * sy)], fill=255)
    d.ellipse([360 * sx, 120 * sy, 480 * sx, 240 * sy], fill=0)
    d.ellipse([400 * sx, 160 * sy, 440 * sx, 200 * sy], fill=255)
    for i in range(6):
        d.ellipse([(40 + 90 * i) * sx, 340 * sy, (80 + 90 * i) * sx, 375 * sy], fill=255)
    return m.filter(ImageFilter.GaussianBlur(blur)) if blur else m


SHAPE_SUBPATHS = 2 + 2 + 1 + 6  # two outlines, two holes, the island in a hole, six islands


def soft_disc(size: int, cx: float, cy: float, r: float) -> Image.Image:
    """A disc whose 50% line is exactly the circle of radius r (linear ramp one pixel wide)."""
    y, x = np.mgrid[0:size, 0:size] + 0.5
    alpha = np.clip(r - np.hypot(x - cx, y - cy) + 0.5, 0, 1)
    return Image.fromarray((alpha * 255 + 0.5).astype(np.uint8))


def jpeg_bytes(size: tuple[int, int], colour=(200, 200, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def tiff_bytes(size: tuple[int, int], resources: bytes | None = None, **params) -> bytes:
    out = io.BytesIO()
    if resources is not None:
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[34377] = resources
        tags.tagtype[34377] = 7  # UNDEFINED: raw bytes
        params["tiffinfo"] = tags
    Image.new("RGB", size, (10, 20, 30)).save(out, "TIFF", **params)
    return out.getvalue()


def tag_bytes(value) -> bytes:
    """Pillow gives an UNDEFINED tag of unknown length as a tuple of bytes (or of ints for BYTE)."""
    if isinstance(value, tuple):
        return b"".join(v if isinstance(v, bytes) else bytes([v]) for v in value)
    return bytes(value)


def iptc_caption_block(caption: bytes) -> bytes:
    """An 8BIM 0x0404 block holding IPTC 2:00 (version) and 2:120 (caption), written by hand."""
    iptc = b"\x1c\x02\x00\x00\x02\x00\x04" + b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption
    block = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    return block + b"\x00" * (len(iptc) % 2)


def with_app13(jpeg: bytes, blocks: bytes) -> bytes:
    payload = b"Photoshop 3.0\x00" + blocks
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def app13_payloads(jpeg: bytes) -> list[bytes]:
    """Every APP13 segment's payload, found by walking the markers."""
    out, pos = [], 2
    while jpeg[pos] == 0xFF and jpeg[pos + 1] not in (0xDA, 0xD9):
        (length,) = struct.unpack_from(">H", jpeg, pos + 2)
        if jpeg[pos + 1] == 0xED:
            out.append(jpeg[pos + 4 : pos + 2 + length])
        pos += 2 + length
    return out


# --- comparing masks ----------------------------------------------------------------------------


def inside(mask: Image.Image) -> np.ndarray:
    return np.asarray(mask.convert("L")) >= 128


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _grow(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, 1)
    return np.logical_or.reduce([p[1 + dy : p.shape[0] - 1 + dy, 1 + dx : p.shape[1] - 1 + dx]
                                 for dy in (-1, 0, 1) for dx in (-1, 0, 1)])


def differences_off_edge(expected: np.ndarray, got: np.ndarray) -> int:
    """Pixels that differ although they are more than 1 px from the expected mask's edge."""
    edge_band = _grow(expected) & _grow(~expected)  # within 1 px of both sides
    return int(((expected ^ got) & ~edge_band).sum())


def assert_matches(expected: np.ndarray, got: np.ndarray) -> None:
    assert iou(expected, got) >= 0.99
    assert differences_off_edge(expected, got) == 0


# --- reading an SVG path back (ImageMagick's and ours) ---------------------------------------------


def svg_path_data(svg: str) -> str:
    root = ET.fromstring(svg.encode("latin-1") if svg.startswith("<?xml") else svg)
    return root.find(".//{http://www.w3.org/2000/svg}path").get("d")


_T = np.linspace(0, 1, 25)[1:]


def svg_polygons(d: str) -> list[list[tuple[float, float]]]:
    """Absolute M/L/C/Z path data as polygons, each cubic cut into 24 straight pieces."""
    tokens = re.findall(r"[MLCZ]|-?\d+(?:\.\d+)?(?:e-?\d+)?", d)
    polygons: list[list[tuple[float, float]]] = []
    i, command = 0, None
    while i < len(tokens):
        if tokens[i] in "MLCZ":
            command = tokens[i]
            i += 1
            if command == "Z":
                continue
        numbers = [float(t) for t in tokens[i : i + (6 if command == "C" else 2)]]
        i += len(numbers)
        if command == "M":
            polygons.append([(numbers[0], numbers[1])])
            command = "L"
        elif command == "L":
            polygons[-1].append((numbers[0], numbers[1]))
        else:
            p0, c1, c2, p3 = np.array([polygons[-1][-1], numbers[0:2], numbers[2:4], numbers[4:6]])
            t = _T[:, None]
            q = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t * t * c2 + t**3 * p3
            polygons[-1].extend(map(tuple, q.tolist()))
    return polygons


def pillow_even_odd(polygons: list[list[tuple[float, float]]], size: tuple[int, int], k: int = 4) -> np.ndarray:
    """Fill with Pillow's ImageDraw (each subpath XOR the rest: even-odd), k times finer, then average.

    ImageDraw also paints the pixels the outline touches, half a pixel too
    much at 1x; at 4x that is an eighth of a pixel.
    """
    fine = np.zeros((size[1] * k, size[0] * k), dtype=bool)
    for poly in polygons:
        xs, ys = [x * k for x, _ in poly], [y * k for _, y in poly]
        left, top = max(0, int(min(xs)) - 1), max(0, int(min(ys)) - 1)
        right, bottom = min(fine.shape[1], int(max(xs)) + 2), min(fine.shape[0], int(max(ys)) + 2)
        layer = Image.new("1", (right - left, bottom - top), 0)  # just the polygon's box: fast for many
        # Path coordinates count pixel corners; ImageDraw's count pixel centres.
        ImageDraw.Draw(layer).polygon([(x - left - 0.5, y - top - 0.5) for x, y in zip(xs, ys, strict=True)], fill=1)
        fine[top:bottom, left:right] ^= np.asarray(layer, dtype=bool)
    coverage = Image.fromarray(fine.astype(np.uint8) * 255).reduce(k)
    return np.asarray(coverage) >= 128


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, timeout=120).stdout.decode("latin-1")


def magick_convert() -> str:
    return shutil.which("magick") or "convert"


# --- tracing -------------------------------------------------------------------------------------


def test_traced_path_fills_back_to_the_mask_with_its_holes_and_islands():
    mask = shapes_mask()
    path = trace(mask)
    assert len(path.subpaths) == SHAPE_SUBPATHS
    assert_matches(inside(mask), inside(rasterize(path)))


def test_traced_path_stays_within_half_a_pixel_of_a_soft_edge():
    path = trace(soft_disc(300, 150.0, 150.0, 100.3))
    polygon = np.concatenate([np.array(poly) for poly in svg_polygons(svg_path_data(to_svg(path)))])
    radius = np.hypot(polygon[:, 0] - 150.0, polygon[:, 1] - 150.0)
    assert np.abs(radius - 100.3).max() <= 0.5


def test_a_circle_needs_only_a_handful_of_knots():
    path = trace(soft_disc(300, 150.0, 150.0, 100.3))
    assert len(path.subpaths) == 1
    assert len(path.subpaths[0]) <= 16  # potrace gives 14 here; a knot every ~45 px of arc


def test_a_box_is_four_corner_knots_on_the_pixel_edges():
    mask = Image.new("L", (100, 80), 0)
    ImageDraw.Draw(mask).rectangle([10, 20, 59, 69], fill=255)
    (box,) = trace(mask).subpaths
    assert sorted(k.anchor for k in box) == [(10, 20), (10, 70), (60, 20), (60, 70)]
    assert not any(k.linked for k in box)


def test_smooth_curves_have_linked_knots():
    (circle,) = trace(soft_disc(300, 150.0, 150.0, 100.3)).subpaths
    assert all(k.linked for k in circle)


def test_an_empty_mask_traces_to_no_subpaths():
    path = trace(Image.new("L", (50, 40), 0))
    assert path.subpaths == () and (path.width, path.height) == (50, 40)
    assert len(path_records(path)) == 2 * 26


def test_a_numpy_mask_traces_like_an_image():
    mask = shapes_mask()
    assert trace(np.asarray(mask)) == trace(mask)


def test_single_stray_pixels_are_not_traced():
    mask = Image.new("L", (60, 60), 0)
    ImageDraw.Draw(mask).rectangle([10, 10, 40, 40], fill=255)
    mask.putpixel((52, 52), 255)
    assert len(trace(mask).subpaths) == 1


# --- Photoshop records ---------------------------------------------------------------------------


def test_path_records_follow_photoshops_layout():
    mask = Image.new("L", (100, 80), 0)
    ImageDraw.Draw(mask).rectangle([10, 20, 59, 69], fill=255)
    path = trace(mask)
    data = path_records(path)
    records = [data[i : i + 26] for i in range(0, len(data), 26)]
    assert len(data) % 26 == 0 and len(records) == 2 + 1 + 4
    assert struct.unpack(">H", records[0][:2]) == (6,) and records[0][2:] == bytes(24)
    assert struct.unpack(">HH", records[1][:4]) == (8, 0)
    assert struct.unpack(">HH", records[2][:4]) == (0, 4)
    kinds = {struct.unpack(">H", r[:2])[0] for r in records[3:]}
    assert kinds == {2}  # box corners: unlinked knots
    anchors = {struct.unpack(">ii", r[10:18]) for r in records[3:]}  # (y, x) of each anchor, 8.24 fixed
    def fixed(fraction: float) -> int:
        return round(fraction * (1 << 24))

    assert anchors == {(fixed(20 / 80), fixed(10 / 100)), (fixed(20 / 80), fixed(60 / 100)),
                       (fixed(70 / 80), fixed(10 / 100)), (fixed(70 / 80), fixed(60 / 100))}


def test_path_records_read_back_to_the_same_path():
    path = trace(shapes_mask())
    back = read_path_records(path_records(path), path.width, path.height)
    assert len(back.subpaths) == len(path.subpaths)
    assert_matches(inside(rasterize(path)), inside(rasterize(back)))


def test_clipping_path_resource_names_the_saved_path_with_flatness_and_fill_rule():
    blocks = photoshop.decode_resources(photoshop_resources(trace(shapes_mask()), "Cut out", 2.5))
    saved, clipping = blocks
    assert (saved.id, saved.name) == (2000, b"Cut out")
    assert clipping.id == 2999
    assert clipping.data == b"\x07Cut out" + struct.pack(">IH", int(2.5 * 65536), 0)


# --- SVG and rasterising -------------------------------------------------------------------------


def test_svg_is_a_document_of_the_image_size_filled_even_odd():
    path = trace(shapes_mask())
    root = ET.fromstring(to_svg(path).encode())
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("600", "400", "0 0 600 400")
    assert root.find("{http://www.w3.org/2000/svg}path").get("fill-rule") == "evenodd"


def test_svg_drawn_by_pillow_matches_the_mask():
    mask = shapes_mask()
    drawn = pillow_even_odd(svg_polygons(svg_path_data(to_svg(trace(mask)))), mask.size)
    assert_matches(inside(mask), drawn)


def test_svg_scales_to_another_size():
    mask = shapes_mask()
    drawn = pillow_even_odd(svg_polygons(svg_path_data(to_svg(trace(mask), 1200, 800))), (1200, 800))
    assert_matches(inside(mask.resize((1200, 800), Image.Resampling.BILINEAR)), drawn)


def test_rasterize_leaves_holes_empty():
    path = trace(shapes_mask())
    filled = np.asarray(rasterize(path))
    assert filled[170, 150] == 0  # inside the ring's hole
    assert filled[80, 150] == 255  # on the ring


# --- JPEG APP13 ----------------------------------------------------------------------------------


def test_jpeg_gets_one_photoshop_segment_with_the_path():
    path = trace(shapes_mask())
    out = embed_in_jpeg(jpeg_bytes((600, 400)), photoshop_resources(path, "Path 1"))
    (payload,) = app13_payloads(out)
    assert payload.startswith(b"Photoshop 3.0\x00")
    ids = [r.id for r in photoshop.jpeg_resources(out)]
    assert ids == [2000, 2999]
    Image.open(io.BytesIO(out)).load()  # still a valid JPEG


def test_jpeg_keeps_the_iptc_block_it_had_in_the_same_segment():
    original = with_app13(jpeg_bytes((600, 400)), iptc_caption_block(b"Studio caption"))
    out = embed_in_jpeg(original, photoshop_resources(trace(shapes_mask()), "Path 1"))
    assert len(app13_payloads(out)) == 1
    assert [r.id for r in photoshop.jpeg_resources(out)] == [0x0404, 2000, 2999]


def test_embedding_again_replaces_the_path_instead_of_adding_one():
    first = embed_in_jpeg(jpeg_bytes((600, 400)), photoshop_resources(trace(shapes_mask()), "Old"))
    box = Image.new("L", (600, 400), 0)
    ImageDraw.Draw(box).rectangle([100, 100, 199, 199], fill=255)
    second = embed_in_jpeg(first, photoshop_resources(trace(box), "New"))
    saved = [r for r in photoshop.jpeg_resources(second) if r.id == 2000]
    assert [r.name for r in saved] == [b"New"]


def test_a_large_path_is_split_over_several_app13_segments():
    mask = many_islands_mask()
    resources = photoshop_resources(trace(mask), "Many")
    out = embed_in_jpeg(jpeg_bytes(mask.size), resources)
    payloads = app13_payloads(out)
    assert len(resources) > 65533 and len(payloads) > 1
    assert all(p.startswith(b"Photoshop 3.0\x00") and len(p) <= 65533 for p in payloads)
    assert photoshop.encode_resources(photoshop.jpeg_resources(out)) == resources
    Image.open(io.BytesIO(out)).load()


def many_islands_mask() -> Image.Image:
    """Over 2000 small islands, each with a hole: a path of some 700 KB."""
    mask = Image.new("L", (1200, 900), 0)
    d = ImageDraw.Draw(mask)
    for y in range(20, 880, 30):
        for x in range(20, 1180, 30):
            d.ellipse([x, y, x + 18, y + 14], fill=255)
            d.rectangle([x + 6, y + 5, x + 10, y + 8], fill=0)
    return mask


# --- TIFF tag 34377 ------------------------------------------------------------------------------


def test_tiff_carries_the_resources_in_tag_34377():
    resources = photoshop_resources(trace(shapes_mask()), "Path 1")
    out = embed_in_tiff(tiff_bytes((600, 400), compression="tiff_lzw"), resources)
    with Image.open(io.BytesIO(out)) as im:
        im.load()
        assert tag_bytes(im.tag_v2[34377]) == resources
        assert im.getpixel((5, 5)) == (10, 20, 30)


def test_tiff_keeps_the_resources_it_had():
    original = tiff_bytes((600, 400), resources=iptc_caption_block(b"Studio caption"))
    out = embed_in_tiff(original, photoshop_resources(trace(shapes_mask()), "Path 1"))
    assert [r.id for r in photoshop.tiff_resources(out)] == [0x0404, 2000, 2999]


# --- independent readers: ExifTool ---------------------------------------------------------------


@needs_exiftool
def test_exiftool_lists_the_clipping_path_name_and_the_path(tmp_path: Path):
    file = tmp_path / "cut.jpg"
    file.write_bytes(embed_in_jpeg(jpeg_bytes((600, 400)), photoshop_resources(trace(shapes_mask()), "Cut out")))
    listing = run("exiftool", "-a", "-u", "-G1", "-Photoshop:All", str(file))
    assert re.search(r"\[Photoshop\]\s+Clipping Path Name\s+: Cut out", listing)
    assert re.search(r"\[Photoshop\]\s+Photoshop 0x07d0\s+:", listing)
    verbose = run("exiftool", "-v2", str(file))
    assert 'Tag 0x07d0, Name="Cut out"' in verbose


@needs_exiftool
def test_exiftool_extracts_the_exact_path_records(tmp_path: Path):
    path = trace(shapes_mask())
    file = tmp_path / "cut.jpg"
    file.write_bytes(embed_in_jpeg(jpeg_bytes((600, 400)), photoshop_resources(path, "Path 1")))
    raw = subprocess.run(["exiftool", "-b", "-u", "-Photoshop:Photoshop_0x07d0", str(file)],
                         check=True, capture_output=True, timeout=120).stdout
    assert raw == path_records(path)


@needs_exiftool
def test_exiftool_still_reads_the_iptc_caption(tmp_path: Path):
    file = tmp_path / "cut.jpg"
    original = with_app13(jpeg_bytes((600, 400)), iptc_caption_block(b"Studio caption"))
    file.write_bytes(embed_in_jpeg(original, photoshop_resources(trace(shapes_mask()), "Path 1")))
    assert run("exiftool", "-s3", "-IPTC:Caption-Abstract", str(file)).strip() == "Studio caption"
    assert run("exiftool", "-s3", "-Photoshop:ClippingPathName", str(file)).strip() == "Path 1"


@needs_exiftool
def test_exiftool_reads_a_path_split_over_several_segments(tmp_path: Path):
    path = trace(many_islands_mask())
    file = tmp_path / "many.jpg"
    file.write_bytes(embed_in_jpeg(jpeg_bytes((1200, 900)), photoshop_resources(path, "Many")))
    raw = subprocess.run(["exiftool", "-b", "-u", "-Photoshop:Photoshop_0x07d0", str(file)],
                         check=True, capture_output=True, timeout=120).stdout
    assert raw == path_records(path)


@needs_exiftool
def test_exiftool_reads_the_tiff_clipping_path(tmp_path: Path):
    file = tmp_path / "cut.tif"
    file.write_bytes(embed_in_tiff(tiff_bytes((600, 400)), photoshop_resources(trace(shapes_mask()), "Cut out")))
    assert run("exiftool", "-s3", "-Photoshop:ClippingPathName", str(file)).strip() == "Cut out"


# --- independent readers: ImageMagick ------------------------------------------------------------


def imagemagick_svg(file: Path) -> str:
    return run("identify", "-format", "%[8BIM:1999,2998:#1]", str(file))


@needs_imagemagick
def test_imagemagick_reads_the_path_back_as_svg_that_matches_the_mask(tmp_path: Path):
    mask = shapes_mask()
    file = tmp_path / "cut.jpg"
    file.write_bytes(embed_in_jpeg(jpeg_bytes(mask.size), photoshop_resources(trace(mask), "Path 1")))
    polygons = svg_polygons(svg_path_data(imagemagick_svg(file)))
    assert len(polygons) == SHAPE_SUBPATHS
    assert_matches(inside(mask), pillow_even_odd(polygons, mask.size))


@needs_imagemagick
def test_imagemagick_clips_the_image_along_the_path(tmp_path: Path):
    # ImageMagick's own renderer also paints every pixel the outline touches
    # (~0.5 px all round), so a shape needs some size for IoU 0.99: 3x here.
    mask = shapes_mask(1800, 1200, blur=4)
    file = tmp_path / "cut.jpg"
    file.write_bytes(embed_in_jpeg(jpeg_bytes(mask.size), photoshop_resources(trace(mask), "Path 1")))
    clipped = tmp_path / "clipped.png"
    run(magick_convert(), str(file), "-alpha", "transparent", "-clip", "-alpha", "opaque", "+clip",
        "-alpha", "extract", str(clipped))
    assert_matches(inside(mask), inside(Image.open(clipped)))


@needs_imagemagick
def test_imagemagick_reads_every_subpath_of_a_split_app13(tmp_path: Path):
    mask = many_islands_mask()
    path = trace(mask)
    file = tmp_path / "many.jpg"
    file.write_bytes(embed_in_jpeg(jpeg_bytes(mask.size), photoshop_resources(path, "Many")))
    polygons = svg_polygons(svg_path_data(imagemagick_svg(file)))
    assert len(polygons) == len(path.subpaths)
    assert_matches(inside(mask), pillow_even_odd(polygons, mask.size))


@needs_imagemagick
def test_imagemagick_reads_the_tiff_path(tmp_path: Path):
    mask = shapes_mask()
    file = tmp_path / "cut.tif"
    file.write_bytes(embed_in_tiff(tiff_bytes(mask.size), photoshop_resources(trace(mask), "Path 1")))
    assert_matches(inside(mask), pillow_even_odd(svg_polygons(svg_path_data(imagemagick_svg(file))), mask.size))


def test_knot_count_adds_up_the_subpaths():
    path = trace(shapes_mask())
    assert isinstance(path, ClippingPath)
    assert path.knot_count == sum(len(s) for s in path.subpaths) > SHAPE_SUBPATHS


def test_the_pure_python_tracer_draws_the_same_path(monkeypatch):
    """Machines without libpotrace trace with potracer: same anchors, same filled shape."""
    from PIL import ImageDraw

    from rendering import clipping_path

    mask = Image.new("L", (300, 200), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((20, 20, 280, 180), fill=255)
    draw.ellipse((100, 70, 150, 120), fill=0)
    inside = np.asarray(mask) >= 128
    fast = clipping_path._potrace(inside, 2)
    pure = clipping_path._potrace_pure_python(inside, 2)

    anchors = lambda paths: sorted(sorted((round(s[3][0], 3), round(s[3][1], 3)) for s in p) for p in paths)  # noqa: E731
    assert anchors(fast) == anchors(pure)
    monkeypatch.setattr(clipping_path, "_potrace", clipping_path._potrace_pure_python)
    a = np.asarray(clipping_path.rasterize(clipping_path.trace(mask))) > 127
    monkeypatch.undo()
    b = np.asarray(clipping_path.rasterize(clipping_path.trace(mask))) > 127
    assert (a & b).sum() / (a | b).sum() > 0.999
