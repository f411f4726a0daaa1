"""The final render, checked on pixels: every option, odd inputs, and the embedded clipping path.

The scene: a 400x300 photo, green background, a red 200x140 box at (100, 80)
as the subject, and its mask.
"""
from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter, ImageOps

from rendering import photoshop
from rendering.clipping_path import rasterize, read_path_records
from rendering.decode import SRGB_ICC
from rendering.options import parse_options
from rendering.render import RenderedImage, RenderError, render

SIZE = (400, 300)
BOX = (100, 80, 300, 220)  # the subject: left, top, right, bottom (exclusive)
RED, GREEN = (200, 30, 30), (30, 160, 60)


def scene(size=SIZE, box=BOX) -> Image.Image:
    im = Image.new("RGB", size, GREEN)
    ImageDraw.Draw(im).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=RED)
    return im


def box_mask(size=SIZE, box=BOX) -> Image.Image:
    m = Image.new("L", size, 0)
    ImageDraw.Draw(m).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=255)
    return m


def encoded(im: Image.Image, fmt: str = "PNG", **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def rendered(options: dict[str, str], original: bytes | None = None, mask: Image.Image | None = None,
             background: bytes | None = None) -> tuple[RenderedImage, Image.Image]:
    result = render(original or encoded(scene()), mask or box_mask(), parse_options(options), background)
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return result, image


def alpha_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    return image.getchannel("A").point(lambda v: 255 if v >= 128 else 0).getbbox()


def close(a, b, tolerance: int = 6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


# --- defaults and backgrounds -------------------------------------------------------------------------


def test_no_options_give_a_transparent_png_at_the_original_size():
    result, image = rendered({})
    assert (result.mime_type, result.extension, image.format) == ("image/png", ".png", "PNG")
    assert image.mode == "RGBA" and image.size == SIZE == (result.width, result.height)
    assert image.getpixel((5, 5))[3] == 0
    assert image.getpixel((200, 150)) == (*RED, 255)
    assert alpha_box(image) == BOX


def test_transparent_pixels_do_not_carry_the_old_background():
    _, image = rendered({})
    assert image.getpixel((5, 5)) == (0, 0, 0, 0)


def test_jpeg_is_white_around_the_subject_by_default():
    result, image = rendered({"format": "jpg"})
    assert (result.mime_type, result.extension, image.mode) == ("image/jpeg", ".jpg", "RGB")
    assert close(image.getpixel((5, 5)), (255, 255, 255))
    assert close(image.getpixel((200, 150)), RED)


def test_background_colour_fills_the_corners():
    _, image = rendered({"background": "#3366cc"})
    assert image.mode == "RGB"
    assert image.getpixel((5, 5)) == (51, 102, 204) == image.getpixel((395, 295))
    assert image.getpixel((200, 150)) == RED


def test_background_with_alpha_stays_translucent_in_png():
    _, image = rendered({"background": "#3366cc80"})
    assert image.mode == "RGBA"
    assert image.getpixel((5, 5)) == (51, 102, 204, 128)
    assert image.getpixel((200, 150)) == (*RED, 255)


def test_background_with_alpha_is_laid_on_white_in_jpeg():
    _, image = rendered({"background": "#3366cc80", "format": "jpg"})
    assert close(image.getpixel((5, 5)), (153, 178, 229))


def test_background_image_is_scaled_to_cover_the_canvas():
    backdrop = Image.new("RGB", (100, 50), (0, 0, 255))
    ImageDraw.Draw(backdrop).rectangle([50, 0, 99, 49], fill=(255, 255, 0))
    _, image = rendered({"background": "image"}, background=encoded(backdrop))
    assert image.mode == "RGB" and image.size == SIZE
    assert close(image.getpixel((5, 5)), (0, 0, 255)) and close(image.getpixel((5, 295)), (0, 0, 255))
    assert close(image.getpixel((395, 5)), (255, 255, 0))
    assert image.getpixel((200, 150)) == RED


def test_background_image_must_be_given():
    with pytest.raises(RenderError, match="background image"):
        render(encoded(scene()), box_mask(), parse_options({"background": "image"}))


# --- crop, margin, scale, position, canvas, max_size --------------------------------------------------


def test_crop_cuts_to_the_subject():
    _, image = rendered({"crop": "true"})
    assert image.size == (200, 140)
    assert image.getpixel((0, 0)) == image.getpixel((199, 139)) == (*RED, 255)


def test_crop_margin_in_pixels_surrounds_the_subject():
    _, image = rendered({"crop": "true", "crop_margin": "10px"})
    assert image.size == (220, 160)
    assert alpha_box(image) == (10, 10, 210, 150)
    assert image.getpixel((9, 9))[3] == 0 and image.getpixel((10, 10))[3] == 255


def test_crop_margin_in_percent_is_of_the_subjects_size():
    _, image = rendered({"crop": "true", "crop_margin": "10%"})
    assert image.size == (200 + 2 * 20, 140 + 2 * 14)
    assert alpha_box(image) == (20, 14, 220, 154)


def test_crop_margin_beyond_the_image_edge_is_transparent():
    box = (0, 80, 100, 220)
    _, image = rendered({"crop": "true", "crop_margin": "20px"}, encoded(scene(box=box)), box_mask(box=box))
    assert image.size == (140, 180)
    assert image.getpixel((5, 90))[3] == 0 and image.getpixel((25, 30))[3] == 255


def test_scale_sizes_the_subject_as_a_percent_of_the_canvas():
    _, image = rendered({"scale": "80%"})
    assert image.size == SIZE
    # 200x140 on 400x300: the width is the larger share, so it becomes 80% of 400.
    assert alpha_box(image) == (40, 38, 360, 262)  # 320x224, centred


def test_scale_with_canvas_and_position_top():
    _, image = rendered({"canvas": "400x400", "scale": "50%", "position": "top"})
    assert image.size == (400, 400)
    assert alpha_box(image) == (100, 0, 300, 140)


def test_position_in_percent_puts_the_subject_in_a_corner():
    _, image = rendered({"canvas": "400x400", "scale": "50%", "position": "0%,100%"})
    assert alpha_box(image) == (0, 260, 200, 400)


def test_position_without_scale_moves_the_subject_at_its_size():
    _, image = rendered({"position": "bottom"})
    assert image.size == SIZE
    assert alpha_box(image) == (100, 160, 300, 300)


def test_canvas_fits_the_whole_image_and_centres_it():
    _, image = rendered({"canvas": "800x800"})
    assert image.size == (800, 800)
    assert alpha_box(image) == (200, 260, 600, 540)


def test_crop_then_canvas_makes_a_marketplace_square():
    _, image = rendered({"crop": "true", "canvas": "1000x1000", "background": "white", "format": "jpg"})
    assert image.size == (1000, 1000)
    assert close(image.getpixel((500, 100)), (255, 255, 255)) and close(image.getpixel((500, 200)), RED)
    assert close(image.getpixel((500, 800)), RED) and close(image.getpixel((500, 900)), (255, 255, 255))


def test_max_size_limits_the_longest_side():
    _, image = rendered({"max_size": "200"})
    assert image.size == (200, 150)
    assert alpha_box(image) == (50, 40, 150, 110)


# --- formats ------------------------------------------------------------------------------------------


def test_mask_format_is_the_alpha_alone_as_greyscale_png():
    result, image = rendered({"format": "mask"})
    assert (result.mime_type, image.format, image.mode) == ("image/png", "PNG", "L")
    assert np.array_equal(np.asarray(image), np.asarray(box_mask()))


def test_mask_format_follows_the_crop():
    _, image = rendered({"format": "mask", "crop": "true", "crop_margin": "5px"})
    assert image.size == (210, 150) and image.getpixel((2, 2)) == 0 and image.getpixel((100, 70)) == 255


def test_webp_keeps_the_alpha():
    result, image = rendered({"format": "webp"})
    assert (result.mime_type, image.format, image.mode) == ("image/webp", "WEBP", "RGBA")
    assert image.getpixel((5, 5))[3] == 0
    assert image.getpixel((200, 150))[3] == 255 and close(image.getpixel((200, 150))[:3], RED, 12)


def test_tiff_keeps_the_alpha_and_carries_the_clipping_path():
    result, image = rendered({"format": "tiff"})
    assert (result.mime_type, result.extension, image.mode) == ("image/tiff", ".tif", "RGBA")
    assert image.getpixel((5, 5))[3] == 0
    assert [r.id for r in photoshop.tiff_resources(result.data)] == [2000, 2999]


# --- unusual inputs -----------------------------------------------------------------------------------


def test_cmyk_jpeg_comes_out_in_rgb_colours():
    cmyk = Image.new("CMYK", SIZE, (0, 0, 0, 0))
    ImageDraw.Draw(cmyk).rectangle([100, 80, 299, 219], fill=(0, 255, 255, 0))  # pure red ink
    _, image = rendered({}, encoded(cmyk, "JPEG", quality=95))
    assert image.mode == "RGBA" and image.size == SIZE
    r, g, b, a = image.getpixel((200, 150))
    assert a == 255 and r > 200 and g < 40 and b < 40


def test_16_bit_grey_png_keeps_its_brightness():
    grey = Image.fromarray(np.full(SIZE[::-1], 0x8000, dtype=np.uint16))
    assert grey.mode.startswith("I;16")
    _, image = rendered({}, encoded(grey))
    assert close(image.getpixel((200, 150)), (128, 128, 128, 255), 1)


def test_16_bit_rgb_png_keeps_its_colours():
    _, image = rendered({}, png_16bit_rgb(SIZE, (0xC800, 0x1E00, 0x1E00)))
    assert close(image.getpixel((200, 150)), (*RED, 255), 1)


def png_16bit_rgb(size: tuple[int, int], rgb: tuple[int, int, int]) -> bytes:
    """A 48-bit PNG written by hand (Pillow cannot write one)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + struct.pack(">3H", *rgb) * size[0]
    header = struct.pack(">IIBBBBB", size[0], size[1], 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * size[1]))
            + chunk(b"IEND", b""))


def test_exif_rotated_photo_comes_out_upright():
    stored = scene().transpose(Image.Transpose.ROTATE_90)  # as a camera held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # view rotated 90° clockwise
    _, image = rendered({}, encoded(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert image.size == SIZE
    assert alpha_box(image) == BOX
    assert close(image.getpixel((200, 150))[:3], RED, 10)


def camera_exif() -> Image.Exif:
    """A camera's EXIF: orientation, resolution, maker, artist, copyright, capture time, pixel size, GPS."""
    exif = Image.Exif()
    exif[0x0112], exif[282], exif[283], exif[296] = 6, 72.0, 72.0, 2
    exif[0x010F], exif[0x013B], exif[0x8298] = "Canon", "Ann Artist", "(c) Example Shop"
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0xA002], sub[0xA003] = "2026:11:02 10:11:12", 300, 400
    exif.get_ifd(0x8825)[1] = "N"
    return exif


def photo_with_camera_exif() -> bytes:
    return encoded(scene().transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=camera_exif().tobytes())


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp", "tiff"])
def test_camera_artist_and_copyright_are_kept(fmt):
    _, image = rendered({"format": fmt}, photo_with_camera_exif())
    exif = image.getexif()
    assert (exif[0x010F], exif[0x013B], exif[0x8298]) == ("Canon", "Ann Artist", "(c) Example Shop")


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_capture_time_is_kept(fmt):
    _, image = rendered({"format": fmt}, photo_with_camera_exif())
    assert image.getexif().get_ifd(0x8769)[0x9003] == "2026:11:02 10:11:12"


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp", "tiff"])
def test_kept_exif_no_longer_rotates_the_upright_pixels(fmt):
    _, image = rendered({"format": fmt}, photo_with_camera_exif())
    assert image.getexif().get(0x0112, 1) == 1
    assert ImageOps.exif_transpose(image).size == SIZE


def test_exif_that_describes_the_old_frame_or_place_is_dropped():
    _, image = rendered({"format": "jpg", "crop": "true"}, photo_with_camera_exif())
    exif = image.getexif()
    assert 0xA002 not in exif.get_ifd(0x8769) and 0xA003 not in exif.get_ifd(0x8769)
    assert 0x8825 not in exif and not exif.get_ifd(0x8825)


def test_template_dpi_wins_over_the_resolution_in_the_originals_exif():
    _, image = rendered({"format": "webp", "dpi": "300"}, photo_with_camera_exif())
    exif = image.getexif()
    assert (float(exif[282]), float(exif[283])) == (300.0, 300.0)
    assert exif[0x8298] == "(c) Example Shop"


def test_damaged_exif_is_left_behind_and_the_render_goes_on():
    _, image = rendered({"format": "jpg"},
                        encoded(scene(), "JPEG", quality=95, exif=b"Exif\x00\x00MM\x00*\xff\xff\xff\xff"))
    assert image.size == SIZE
    assert close(image.getpixel((200, 150)), RED, 10)


def test_mask_format_carries_no_exif():
    _, image = rendered({"format": "mask"}, photo_with_camera_exif())
    assert not image.getexif()


def test_mask_of_another_size_is_stretched_to_the_image():
    small = box_mask().resize((200, 150), Image.Resampling.NEAREST)
    _, image = rendered({}, mask=small)
    assert image.size == SIZE and image.getpixel((200, 150))[3] == 255 and image.getpixel((5, 5))[3] == 0


def test_original_and_mask_may_be_files(tmp_path: Path):
    (tmp_path / "original.png").write_bytes(encoded(scene()))
    box_mask().save(tmp_path / "mask.png")
    result = render(tmp_path / "original.png", tmp_path / "mask.png", parse_options({"crop": "true"}))
    assert (result.width, result.height) == (200, 140)


def test_unreadable_original_is_a_render_error():
    with pytest.raises(RenderError, match="cannot read the original"):
        render(b"not an image", box_mask(), parse_options({}))


# --- colour profile and DPI ---------------------------------------------------------------------------


def swapped_profile() -> bytes:
    """A valid RGB profile that is not sRGB: sRGB with its red and green primaries swapped."""
    icc = bytearray(SRGB_ICC)
    (count,) = struct.unpack_from(">I", icc, 128)
    entries = {bytes(icc[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    icc[red + 4 : red + 12], icc[green + 4 : green + 12] = icc[green + 4 : green + 12], icc[red + 4 : red + 12]
    return bytes(icc).replace("sRGB".encode("utf-16-be"), "Swap".encode("utf-16-be"))


def test_icc_profile_of_the_original_is_kept_with_its_pixels():
    _, image = rendered({"format": "png"}, encoded(scene(), icc_profile=swapped_profile()))
    assert image.info["icc_profile"] == swapped_profile()
    assert image.getpixel((200, 150)) == (*RED, 255)


def test_pixels_are_converted_to_srgb_when_asked():
    _, image = rendered({"color_profile": "srgb"}, encoded(scene(), icc_profile=swapped_profile()))
    profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    r, g, b, _ = image.getpixel((200, 150))
    assert g > 150 and r < 100  # red in the swapped space is green in sRGB


def test_background_colour_is_srgb_whatever_the_kept_profile():
    _, image = rendered({"background": "#00c800"}, encoded(scene(), icc_profile=swapped_profile()))
    r, g, b = image.getpixel((5, 5))
    assert r > 150 and g < 60  # sRGB green, written in the swapped space's numbers


@pytest.mark.parametrize("fmt", ["png", "jpg", "tiff"])
def test_dpi_is_written(fmt):
    _, image = rendered({"format": fmt, "dpi": "300"})
    assert tuple(round(float(d)) for d in image.info["dpi"]) == (300, 300)


def test_dpi_is_written_into_webp_exif():
    _, image = rendered({"format": "webp", "dpi": "300"})
    exif = image.getexif()
    assert (float(exif[282]), float(exif[283]), exif[296]) == (300.0, 300.0, 2)


def test_original_dpi_is_kept_by_default():
    _, image = rendered({"format": "jpg"}, encoded(scene(), dpi=(150, 150)))
    assert tuple(round(float(d)) for d in image.info["dpi"]) == (150, 150)


# --- shadow and edges ---------------------------------------------------------------------------------


def test_soft_shadow_falls_below_the_subject():
    _, image = rendered({"format": "jpg", "shadow": "soft", "shadow_offset": "0,20px", "shadow_blur": "4px",
                         "shadow_opacity": "60%"})
    below, above = image.getpixel((200, 228)), image.getpixel((200, 72))
    assert max(below) < 200  # in the shadow
    assert min(above) > 245  # the shadow does not rise above the subject


def test_shadow_on_a_transparent_png_is_translucent_black():
    _, image = rendered({"shadow": "soft", "shadow_offset": "0,20px", "shadow_blur": "2px", "shadow_opacity": "50"})
    r, g, b, a = image.getpixel((200, 230))
    assert (r, g, b) == (0, 0, 0) and 100 <= a <= 140
    assert image.getpixel((200, 70))[3] == 0


def test_feather_softens_the_edge_only():
    result, image = rendered({"edge_feather": "3"})
    edge = np.asarray(result.mask)[150, 96:105]
    assert 0 < edge[4] < 255 and edge[0] < edge[4] < edge[-1]
    assert image.getpixel((200, 150))[3] == 255 and image.getpixel((5, 5))[3] == 0


def soft_edged_scene() -> tuple[bytes, Image.Image]:
    """Red subject on green whose edge pixels are a real mix of both (a 6-px soft edge)."""
    mask = box_mask().filter(ImageFilter.GaussianBlur(3))
    a = np.asarray(mask, dtype=np.float32)[..., None] / 255
    mix = a * np.array(RED, np.float32) + (1 - a) * np.array(GREEN, np.float32)
    return encoded(Image.fromarray((mix + 0.5).astype(np.uint8))), mask


def green_excess_at_the_edge(image: Image.Image, mask: Image.Image) -> float:
    """How much greener than blue the partly transparent pixels came out on white (0 = no halo)."""
    a = np.asarray(mask)
    band = (a > 25) & (a < 230)
    px = np.asarray(image, dtype=np.float32)[band]
    return float((px[:, 1] - px[:, 2]).mean())


def test_decontamination_removes_the_old_background_from_the_edge():
    original, mask = soft_edged_scene()
    _, plain = rendered({"format": "png", "background": "white"}, original, mask)
    _, clean = rendered({"format": "png", "background": "white", "edge_decontaminate": "true"}, original, mask)
    assert green_excess_at_the_edge(plain, mask) > 10
    assert abs(green_excess_at_the_edge(clean, mask)) < 3
    assert clean.getpixel((200, 150)) == RED and clean.getpixel((5, 5)) == (255, 255, 255)


# --- the clipping path in the delivered file ----------------------------------------------------------


def test_jpeg_clipping_path_matches_the_output_pixels():
    result, image = rendered({"format": "jpg", "crop": "true", "crop_margin": "10%", "canvas": "500x500"},
                             *soft_edged_scene())
    blocks = {r.id: r for r in photoshop.jpeg_resources(result.data)}
    assert blocks[2000].name == b"Path 1"
    path = read_path_records(blocks[2000].data, *image.size)
    drawn = np.asarray(rasterize(path)) > 0
    expected = np.asarray(result.mask) >= 128
    assert (drawn & expected).sum() / (drawn | expected).sum() >= 0.99
    assert result.clipping_path is not None and result.svg().startswith("<?xml")


def test_clipping_path_name_is_the_templates():
    result, _ = rendered({"format": "jpg", "clipping_path_name": "Freisteller"})
    names = [r.name for r in photoshop.jpeg_resources(result.data) if r.id == 2000]
    assert names == [b"Freisteller"]


def test_jpeg_without_clipping_path_when_turned_off():
    result, _ = rendered({"format": "jpg", "clipping_path": "false"})
    assert photoshop.jpeg_resources(result.data) == [] and result.clipping_path is None


def test_png_can_have_a_clipping_path_as_svg_only():
    result, image = rendered({"clipping_path": "true"})
    assert result.clipping_path is not None and len(result.clipping_path.subpaths) == 1
    assert "8BIM" not in str(image.info)


def test_iptc_of_the_original_is_delivered_and_its_old_path_is_not():
    iptc = b"\x1c\x02\x78" + struct.pack(">H", 7) + b"Caption"
    old = [photoshop.Resource(0x0404, iptc), photoshop.Resource(2000, b"\x00" * 26, b"Old path")]
    payload = photoshop.PHOTOSHOP_HEADER + photoshop.encode_resources(old)
    jpeg = encoded(scene(), "JPEG", quality=95)
    jpeg = jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]
    result, _ = rendered({"format": "jpg"}, jpeg)
    blocks = photoshop.jpeg_resources(result.data)
    assert [(r.id, r.name) for r in blocks] == [(0x0404, b""), (2000, b"Path 1"), (2999, b"")]
    assert blocks[0].data == iptc


@pytest.mark.skipif(shutil.which("identify") is None,
                    reason="needs ImageMagick's identify (Debian package imagemagick)")
def test_imagemagick_reads_the_rendered_jpegs_path(tmp_path: Path):
    result, _ = rendered({"format": "jpg", "crop": "true", "crop_margin": "20px"})
    file = tmp_path / "out.jpg"
    file.write_bytes(result.data)
    svg = subprocess.run(["identify", "-format", "%[8BIM:1999,2998:#1]", str(file)], check=True,
                         capture_output=True, timeout=60).stdout.decode("latin-1")
    assert 'width="240" height="180"' in svg
    for corner in ("20 20", "220 20", "220 160", "20 160"):  # the box, 20 px in from each side
        assert corner in svg
