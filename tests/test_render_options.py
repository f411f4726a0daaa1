"""Template render options: each key parsed, defaults, clear errors, and a lossless round trip."""
from __future__ import annotations

import pytest

from rendering.options import (
    OPTION_KEYS,
    OPTIONS,
    Background,
    Length,
    OptionError,
    OutputFormat,
    Position,
    RenderOptions,
    markdown_table,
    parse_options,
)


def test_no_options_mean_a_transparent_png_at_the_original_size():
    options = parse_options({})
    assert options == RenderOptions()
    assert options.background == Background("transparent")
    assert options.format is OutputFormat.PNG
    assert (options.crop, options.scale, options.position,
            options.canvas, options.max_size) == (False, None, None, None, None)
    assert not options.wants_clipping_path
    assert options.to_dict() == {}


@pytest.mark.parametrize(
    "text, rgba",
    [
        ("#ff8000", (255, 128, 0, 255)),
        ("#F80", (255, 136, 0, 255)),
        ("#ff800080", (255, 128, 0, 128)),
        ("81d4fa", (129, 212, 250, 255)),
        ("white", (255, 255, 255, 255)),
        ("RebeccaPurple", (102, 51, 153, 255)),
    ],
)
def test_background_colours_in_hex_and_css_names(text, rgba):
    assert parse_options({"background": text}).background == Background("color", rgba)


@pytest.mark.parametrize("text", ["transparent", "image", "Transparent"])
def test_background_words(text):
    assert parse_options({"background": text}).background.kind == text.lower()


@pytest.mark.parametrize("text, fmt", [("png", "png"), ("jpg", "jpg"), ("JPEG", "jpg"), ("webp", "webp"),
                                       ("tif", "tiff"), ("tiff", "tiff"), ("mask", "mask")])
def test_formats_and_their_aliases(text, fmt):
    assert parse_options({"format": text}).format is OutputFormat(fmt)


def test_formats_know_their_file_type():
    assert (OutputFormat.JPG.mime_type, OutputFormat.JPG.extension) == ("image/jpeg", ".jpg")
    assert (OutputFormat.MASK.mime_type, OutputFormat.MASK.extension) == ("image/png", ".png")
    assert (OutputFormat.TIFF.mime_type, OutputFormat.WEBP.mime_type) == ("image/tiff", "image/webp")


@pytest.mark.parametrize("text, length", [("20", Length(20)), ("20px", Length(20)), ("5%", Length(5, True)),
                                          ("2.5 %", Length(2.5, True))])
def test_crop_margin_in_pixels_or_percent(text, length):
    assert parse_options({"crop": "true", "crop_margin": text}).crop_margin == length


@pytest.mark.parametrize("text, value", [("80%", 80.0), ("80", 80.0), ("original", None), ("100%", 100.0)])
def test_scale_in_percent_or_original(text, value):
    assert parse_options({"scale": text}).scale == value


def test_scale_implies_a_centred_subject():
    assert parse_options({"scale": "50%"}).subject_position == Position(0.5, 0.5)
    assert parse_options({"scale": "50%", "position": "top"}).subject_position == Position(0.5, 0.0)
    assert parse_options({}).subject_position is None


@pytest.mark.parametrize("text, position", [("center", Position(0.5, 0.5)), ("top", Position(0.5, 0)),
                                            ("bottom", Position(0.5, 1)), ("10%,90%", Position(0.1, 0.9)),
                                            ("0%, 100%", Position(0, 1)), ("original", None)])
def test_positions_by_name_or_percent(text, position):
    assert parse_options({"position": text}).position == position


@pytest.mark.parametrize("text, size",
                         [("2000x2000", (2000, 2000)), ("1200 x 800", (1200, 800)), ("640×480", (640, 480))])
def test_canvas_is_width_by_height(text, size):
    assert parse_options({"canvas": text}).canvas == size


def test_max_size_and_dpi_are_whole_numbers():
    options = parse_options({"max_size": "1600", "dpi": "300"})
    assert (options.max_size, options.dpi) == (1600, 300)


def test_soft_shadow_with_its_settings():
    options = parse_options({"shadow": "soft", "shadow_opacity": "35%", "shadow_blur": "12px",
                             "shadow_offset": "5px,3%"})
    assert options.shadow == "soft"
    assert options.shadow_opacity == 35.0
    assert options.shadow_blur == Length(12)
    assert options.shadow_offset == (Length(5), Length(3, True))


def test_edge_options():
    options = parse_options({"edge_feather": "1.5", "edge_decontaminate": "yes"})
    assert (options.edge_feather, options.edge_decontaminate) == (1.5, True)


@pytest.mark.parametrize("fmt, default",
                         [("jpg", True), ("tiff", True), ("png", False), ("webp", False), ("mask", False)])
def test_clipping_path_is_on_by_default_for_jpg_and_tiff(fmt, default):
    assert parse_options({"format": fmt}).wants_clipping_path is default


def test_clipping_path_can_be_turned_off_for_jpg_or_on_for_png():
    assert not parse_options({"format": "jpg", "clipping_path": "false"}).wants_clipping_path
    assert parse_options({"format": "png", "clipping_path": "true"}).wants_clipping_path


def test_clipping_path_name_and_flatness():
    options = parse_options({"format": "jpg", "clipping_path_name": "Cut out", "clipping_path_flatness": "2"})
    assert (options.clipping_path_name, options.clipping_path_flatness) == ("Cut out", 2.0)


def test_colour_profile_keep_or_srgb():
    assert parse_options({}).color_profile == "keep"
    assert parse_options({"color_profile": "sRGB"}).color_profile == "srgb"


def test_every_option_round_trips_through_to_dict():
    raw = {
        "background": "#ff800080", "format": "jpeg", "crop": "1", "crop_margin": "5%", "scale": "80",
        "position": "10%,90%", "canvas": "2000x1500", "max_size": "1600", "dpi": "300", "shadow": "soft",
        "shadow_opacity": "35", "shadow_blur": "12", "shadow_offset": "0%,2%", "edge_feather": "1.5",
        "edge_decontaminate": "on", "clipping_path": "true", "clipping_path_name": "Cut out",
        "clipping_path_flatness": "0.5", "color_profile": "srgb",
    }
    assert set(raw) == set(OPTION_KEYS)
    options = parse_options(raw)
    canonical = options.to_dict()
    assert set(canonical) == set(OPTION_KEYS) - {"shadow_offset"}  # "0%,2%" is the default
    assert parse_options(canonical) == options
    assert canonical["background"] == "#ff800080" and canonical["format"] == "jpg"


def test_to_dict_leaves_out_defaults():
    assert parse_options({"format": "png", "crop": "false", "shadow": "none"}).to_dict() == {}


def test_unknown_option_names_the_known_ones():
    with pytest.raises(OptionError) as caught:
        parse_options({"bg_color": "red"})
    assert caught.value.key == "bg_color"
    assert "unknown option" in caught.value.message and "background" in caught.value.message


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("background", "#12345", "#RRGGBB"),
        ("background", "reddish", "CSS colour name"),
        ("format", "gif", "png, jpg, webp, tiff, mask"),
        ("crop", "maybe", "true or false"),
        ("scale", "0%", "1% to 100%"),
        ("scale", "150%", "1% to 100%"),
        ("position", "left", "X%,Y%"),
        ("position", "120%,0%", "0-100"),
        ("canvas", "2000", "WIDTHxHEIGHT"),
        ("canvas", "0x100", "from 1 to"),
        ("canvas", "20000x20000", "100 megapixels"),
        ("max_size", "-5", "whole number"),
        ("dpi", "72.5", "whole number"),
        ("shadow", "hard", "none or soft"),
        ("edge_feather", "200", "0 to 100"),
        ("crop_margin", "60%", "at most 50%"),
        ("color_profile", "adobe", "keep or srgb"),
        ("clipping_path", "sometimes", "true or false"),
    ],
)
def test_bad_values_say_what_is_expected(key, value, words):
    with pytest.raises(OptionError) as caught:
        parse_options({key: value})
    assert caught.value.key == key
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{key}: ")


@pytest.mark.parametrize(
    "raw, key",
    [
        ({"crop_margin": "10px"}, "crop_margin"),
        ({"shadow_blur": "5"}, "shadow_blur"),
        ({"shadow": "none", "shadow_opacity": "50"}, "shadow_opacity"),
        ({"format": "png", "clipping_path_name": "Path 1"}, "clipping_path_name"),
        ({"format": "jpg", "clipping_path": "false", "clipping_path_flatness": "1"}, "clipping_path_flatness"),
    ],
)
def test_options_that_would_do_nothing_are_refused(raw, key):
    with pytest.raises(OptionError) as caught:
        parse_options(raw)
    assert caught.value.key == key and "only applies" in caught.value.message


@pytest.mark.parametrize("name", ["", "Pfad für Freisteller", "x" * 256])
def test_path_names_are_printable_ascii_up_to_255(name):
    with pytest.raises(OptionError):
        parse_options({"format": "jpg", "clipping_path_name": name})


def test_flatness_is_zero_or_at_least_a_fifth_of_a_pixel():
    with pytest.raises(OptionError):
        parse_options({"format": "tiff", "clipping_path_flatness": "0.1"})
    assert parse_options({"format": "tiff", "clipping_path_flatness": "0"}).clipping_path_flatness == 0


def test_readme_table_has_one_row_per_option():
    table = markdown_table().splitlines()
    assert len(table) == 2 + len(OPTIONS)
    assert all(f"| `{key}` |" in "\n".join(table) for key in OPTION_KEYS)
    assert "| `format` | `png`, `jpg`, `webp`, `tiff` or `mask` | `png` |" in table[3]
