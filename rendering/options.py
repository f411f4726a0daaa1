"""Template render options, named once.

``OPTIONS`` is the single table of keys: each with its type, default and a
one-line description (the README table is generated from it) and the parser
that turns the template's string into a value. ``parse_options`` validates a
template's raw ``{key: value}`` strings into a frozen ``RenderOptions``;
``RenderOptions.to_dict`` writes the non-default values back in canonical form,
so ``parse_options(o.to_dict()) == o``.

The semantics follow remove.bg / Uploadcare: ``crop`` cuts to the subject's
bounding box, ``crop_margin`` adds room around it (percent of the subject's
size), ``scale`` sizes the subject as a percent of the canvas and implies
``position=center``, ``position`` places the subject the way CSS's
``background-position`` places an image. A template with no options renders a
transparent PNG at the original size.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from PIL import ImageColor


class OptionError(ValueError):
    """A template option is unknown or has a bad value; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class OutputFormat(enum.Enum):
    PNG = "png"
    JPG = "jpg"
    WEBP = "webp"
    TIFF = "tiff"
    MASK = "mask"

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]

    @property
    def mime_type(self) -> str:
        return _MIME_TYPES[self]

    @property
    def has_alpha(self) -> bool:
        return self in (OutputFormat.PNG, OutputFormat.WEBP, OutputFormat.TIFF)

    @property
    def embeds_clipping_path(self) -> bool:
        return self in (OutputFormat.JPG, OutputFormat.TIFF)


_EXTENSIONS = {
    OutputFormat.PNG: ".png",
    OutputFormat.JPG: ".jpg",
    OutputFormat.WEBP: ".webp",
    OutputFormat.TIFF: ".tif",
    OutputFormat.MASK: ".png",
}
_MIME_TYPES = {
    OutputFormat.PNG: "image/png",
    OutputFormat.JPG: "image/jpeg",
    OutputFormat.WEBP: "image/webp",
    OutputFormat.TIFF: "image/tiff",
    OutputFormat.MASK: "image/png",
}
_FORMAT_ALIASES = {"jpeg": "jpg", "tif": "tiff"}


@dataclass(frozen=True)
class Background:
    """``kind`` is "transparent", "color" or "image"; ``rgba`` only for a colour."""

    kind: str
    rgba: tuple[int, int, int, int] | None = None

    def __str__(self) -> str:
        if self.rgba is None:
            return self.kind
        r, g, b, a = self.rgba
        return f"#{r:02x}{g:02x}{b:02x}" + ("" if a == 255 else f"{a:02x}")


TRANSPARENT = Background("transparent")


@dataclass(frozen=True)
class Length:
    """Pixels, or a percent of a reference size the option's description names."""

    value: float
    percent: bool = False

    def pixels(self, reference: float) -> float:
        return self.value * reference / 100.0 if self.percent else self.value

    def __str__(self) -> str:
        return f"{_number(self.value)}{'%' if self.percent else 'px'}"


@dataclass(frozen=True)
class Position:
    """Where the subject goes: fractions of the free space left of and above it.

    ``None`` in RenderOptions means "original": the subject stays where it was.
    """

    x: float
    y: float

    def __str__(self) -> str:
        return _POSITION_NAMES.get((self.x, self.y)) or f"{_number(self.x * 100)}%,{_number(self.y * 100)}%"


_POSITION_NAMES = {(0.5, 0.5): "center", (0.5, 0.0): "top", (0.5, 1.0): "bottom"}
CENTER = Position(0.5, 0.5)


@dataclass(frozen=True)
class RenderOptions:
    """Validated template options. Build with ``parse_options``; defaults = no options."""

    background: Background = TRANSPARENT
    format: OutputFormat = OutputFormat.PNG
    crop: bool = False
    crop_margin: Length = Length(0)
    scale: float | None = None  # percent of the canvas; None = original size
    position: Position | None = None  # None = original place (center when scale is set)
    canvas: tuple[int, int] | None = None
    max_size: int | None = None
    dpi: int | None = None  # None = the original's
    shadow: str = "none"
    shadow_opacity: float = 50.0
    shadow_blur: Length = Length(2, percent=True)
    shadow_offset: tuple[Length, Length] = (Length(0, percent=True), Length(2, percent=True))
    edge_feather: float = 0.0
    edge_decontaminate: bool = False
    clipping_path: bool | None = None  # None = on for jpg and tiff
    clipping_path_name: str = "Path 1"
    clipping_path_flatness: float = 0.0
    color_profile: str = "keep"

    @property
    def wants_clipping_path(self) -> bool:
        if self.clipping_path is None:
            return self.format.embeds_clipping_path
        return self.clipping_path

    @property
    def subject_position(self) -> Position | None:
        if self.position is None and self.scale is not None:
            return CENTER
        return self.position

    def to_dict(self) -> dict[str, str]:
        """The options that differ from the defaults, as canonical strings."""
        out: dict[str, str] = {}
        for spec in OPTIONS:
            value = getattr(self, spec.key)
            if value != _DEFAULTS[spec.key]:
                out[spec.key] = spec.format(value)
        return out


# --- value parsers: each takes the stripped string, returns the value or raises ValueError ---

_BOOLS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_NUMBER = r"(\d+(?:\.\d+)?)"
_LENGTH = re.compile(_NUMBER + r"\s*(px|%)?")
_PERCENT = re.compile(_NUMBER + r"\s*%?")
_CANVAS = re.compile(r"(\d+)\s*[x×X]\s*(\d+)")
MAX_SIDE = 30000  # px: no output side above this
MAX_CANVAS_PIXELS = 100_000_000  # an explicit canvas of at most 100 MP (RGBA: 400 MB in memory)


def _number(value: float) -> str:
    return f"{value:g}"


def _parse_bool(text: str) -> bool:
    try:
        return _BOOLS[text.lower()]
    except KeyError:
        raise ValueError(f"expected true or false, got {text!r}") from None


def _format_bool(value: bool | None) -> str:
    return "true" if value else "false"


def _parse_background(text: str) -> Background:
    lowered = text.lower()
    if lowered in ("transparent", "image"):
        return Background(lowered)
    if lowered in ImageColor.colormap:
        r, g, b = ImageColor.getrgb(lowered)[:3]
        return Background("color", (r, g, b, 255))
    match = _HEX.fullmatch(text)
    if not match:
        raise ValueError(f"expected transparent, image, #RRGGBB, #RGB, #RRGGBBAA or a CSS colour name, got {text!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    if len(digits) == 6:
        digits += "ff"
    r, g, b, a = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    return Background("color", (r, g, b, a))


def _parse_format(text: str) -> OutputFormat:
    lowered = _FORMAT_ALIASES.get(text.lower(), text.lower())
    try:
        return OutputFormat(lowered)
    except ValueError:
        raise ValueError(f"expected one of {', '.join(f.value for f in OutputFormat)}, got {text!r}") from None


def _length_parser(max_px: float, max_percent: float) -> Callable[[str], Length]:
    def parse(text: str) -> Length:
        match = _LENGTH.fullmatch(text)
        if not match:
            raise ValueError(f"expected pixels like 20 or 20px, or a percent like 5%, got {text!r}")
        value, percent = float(match.group(1)), match.group(2) == "%"
        limit = max_percent if percent else max_px
        if value > limit:
            raise ValueError(f"at most {_number(limit)}{'%' if percent else 'px'}, got {text!r}")
        return Length(value, percent)

    return parse


def _parse_scale(text: str) -> float | None:
    if text.lower() == "original":
        return None
    match = _PERCENT.fullmatch(text)
    if not match or not 1 <= float(match.group(1)) <= 100:
        raise ValueError(f"expected original or a percent from 1% to 100%, got {text!r}")
    return float(match.group(1))


def _format_scale(value: float | None) -> str:
    return "original" if value is None else f"{_number(value)}%"


def _parse_position(text: str) -> Position | None:
    lowered = text.lower()
    if lowered == "original":
        return None
    for (x, y), name in _POSITION_NAMES.items():
        if lowered == name:
            return Position(x, y)
    parts = [p.strip() for p in lowered.split(",")]
    if len(parts) == 2 and all(re.fullmatch(_NUMBER + "%", p) for p in parts):
        x, y = (float(p[:-1]) for p in parts)
        if x <= 100 and y <= 100:
            return Position(x / 100, y / 100)
    raise ValueError(f"expected original, center, top, bottom or X%,Y% (0-100 each), got {text!r}")


def _format_position(value: Position | None) -> str:
    return "original" if value is None else str(value)


def _parse_canvas(text: str) -> tuple[int, int]:
    match = _CANVAS.fullmatch(text)
    if not match:
        raise ValueError(f"expected WIDTHxHEIGHT in pixels like 2000x2000, got {text!r}")
    w, h = int(match.group(1)), int(match.group(2))
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise ValueError(f"each side from 1 to {MAX_SIDE} pixels, got {text!r}")
    if w * h > MAX_CANVAS_PIXELS:
        raise ValueError(f"at most {MAX_CANVAS_PIXELS // 1_000_000} megapixels, got {text!r}")
    return (w, h)


def _int_parser(low: int, high: int, unit: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
            raise ValueError(f"expected a whole number of {unit} from {low} to {high}, got {text!r}")
        return int(text)

    return parse


def _float_parser(low: float, high: float, unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        match = re.fullmatch(_NUMBER + r"\s*" + re.escape(unit), text) or re.fullmatch(_NUMBER, text)
        if not match or not low <= float(match.group(1)) <= high:
            raise ValueError(f"expected a number of {unit} from {_number(low)} to {_number(high)}, got {text!r}")
        return float(match.group(1))

    return parse


def _choice_parser(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(f"expected {' or '.join(choices)}, got {text!r}")
        return text.lower()

    return parse


def _parse_offset(text: str) -> tuple[Length, Length]:
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"expected X,Y like 0,2% or 10px,15px, got {text!r}")
    parse = _length_parser(max_px=1000, max_percent=50)
    return (parse(parts[0].strip()), parse(parts[1].strip()))


def _format_offset(value: tuple[Length, Length]) -> str:
    return f"{value[0]},{value[1]}"


def _or_none(word: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``word`` (the default's spelling, e.g. "original") means None; anything else goes to ``parse``."""

    def parse_or_none(text: str) -> Any:
        return None if text.lower() == word else parse(text)

    return parse_or_none


def _parse_path_name(text: str) -> str:
    # A Pascal string in the file: at most 255 bytes. ASCII keeps every reader
    # (Photoshop, ExifTool, ImageMagick) agreeing on the characters.
    if not 1 <= len(text) <= 255 or not all(" " <= c <= "~" for c in text):
        raise ValueError("expected 1 to 255 printable ASCII characters")
    return text


def _parse_flatness(text: str) -> float:
    value = _float_parser(0, 100, "px")(text)
    if 0 < value < 0.2:
        raise ValueError(f"expected 0 (the output device's default) or 0.2 to 100 device pixels, got {text!r}")
    return value


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionSpec:
    key: str
    type: str
    description: str
    parse: Callable[[str], Any]
    format: Callable[[Any], str] = str

    @property
    def default(self) -> str:
        return self.format(_DEFAULTS[self.key])


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("background", "`transparent`, `image`, `#RRGGBB`, `#RGB`, `#RRGGBBAA` or a CSS colour name",
               "What shows behind the subject; `image` is the order's second image, scaled to cover.",
               _parse_background),
    OptionSpec("format", "`png`, `jpg`, `webp`, `tiff` or `mask`",
               "File type; JPEG has no alpha (transparent becomes white); `mask` is the alpha alone as greyscale PNG.",
               _parse_format, lambda v: v.value),
    OptionSpec("crop", "bool", "Cut the canvas to the subject's bounding box.", _parse_bool, _format_bool),
    OptionSpec("crop_margin", "px (`20`, `20px`, up to 1000) or percent (`5%`, up to 50%) of the subject's size",
               "Room left around the subject when cropping (needs `crop=true`).",
               _length_parser(max_px=1000, max_percent=50)),
    OptionSpec("scale", "`original` or a percent (`1%`-`100%`)",
               "Subject size as a percent of the canvas (fits the larger side); implies `position=center`.",
               _parse_scale, _format_scale),
    OptionSpec("position", "`original`, `center`, `top`, `bottom` or `X%,Y%`",
               "Where the subject sits on the canvas; `0%,0%` is top left, `100%,100%` bottom right.",
               _parse_position, _format_position),
    OptionSpec("canvas", "`WxH` in pixels",
               "Exact output size (e.g. a 2000x2000 marketplace square); the content is fitted in.",
               _or_none("original", _parse_canvas), lambda v: "original" if v is None else f"{v[0]}x{v[1]}"),
    OptionSpec("max_size", "px", "Longest output side; larger results are scaled down.",
               _or_none("none", _int_parser(1, MAX_SIDE, "pixels")), lambda v: "none" if v is None else str(v)),
    OptionSpec("dpi", "dots per inch", "Resolution written into the file (default: the original's).",
               _or_none("original", _int_parser(1, 10000, "dots per inch")),
               lambda v: "original" if v is None else str(v)),
    OptionSpec("shadow", "`none` or `soft`", "A soft drop shadow made from the mask.", _choice_parser("none", "soft")),
    OptionSpec("shadow_opacity", "percent (`0`-`100`)", "Darkness of the shadow (needs `shadow=soft`).",
               _float_parser(0, 100, "%"), lambda v: f"{_number(v)}%"),
    OptionSpec("shadow_blur", "px or percent of the subject's longer side",
               "Softness of the shadow (needs `shadow=soft`).",
               _length_parser(max_px=500, max_percent=25)),
    OptionSpec("shadow_offset", "`X,Y`, each px or percent of the subject's longer side",
               "How far the shadow falls right and down (needs `shadow=soft`).", _parse_offset, _format_offset),
    OptionSpec("edge_feather", "px (`0`-`100`)", "Blur radius softening the subject's edge.",
               _float_parser(0, 100, "px"), lambda v: f"{_number(v)}px"),
    OptionSpec("edge_decontaminate", "bool",
               "Re-estimate the colour of partly transparent edge pixels so no halo of the old background remains.",
               _parse_bool, _format_bool),
    OptionSpec("clipping_path", "bool (default: on for `jpg` and `tiff`)",
               "Trace the mask into a vector clipping path: embedded in JPEG and TIFF, and delivered as SVG.",
               _or_none("auto", _parse_bool), lambda v: "auto" if v is None else _format_bool(v)),
    OptionSpec("clipping_path_name", "text (printable ASCII, up to 255)",
               "Name of the path in Photoshop's Paths panel.",
               _parse_path_name),
    OptionSpec("clipping_path_flatness", "device pixels (`0` or `0.2`-`100`)",
               "Flatness of the clipping path when printed; 0 leaves it to the output device.",
               _parse_flatness, _number),
    OptionSpec("color_profile", "`keep` or `srgb`", "Keep the original's ICC profile, or convert the pixels to sRGB.",
               _choice_parser("keep", "srgb")),
)

OPTION_KEYS = tuple(spec.key for spec in OPTIONS)
_SPECS = {spec.key: spec for spec in OPTIONS}
_DEFAULTS = {f.name: f.default for f in fields(RenderOptions)}
assert set(OPTION_KEYS) == set(_DEFAULTS), "every RenderOptions field needs a row in OPTIONS"


def parse_options(raw: Mapping[str, str]) -> RenderOptions:
    """Validate a template's ``{key: value}`` strings; raises OptionError on the first problem."""
    values: dict[str, Any] = {}
    for key, text in raw.items():
        spec = _SPECS.get(key)
        if spec is None:
            raise OptionError(key, f"unknown option; known options are {', '.join(OPTION_KEYS)}")
        try:
            values[key] = spec.parse(str(text).strip())
        except ValueError as exc:
            raise OptionError(key, str(exc)) from None
    options = RenderOptions(**values)
    _check_combinations(options, raw)
    return options


def _check_combinations(options: RenderOptions, raw: Mapping[str, str]) -> None:
    # Options that would silently do nothing are refused, so a template says what it does.
    if "crop_margin" in raw and not options.crop:
        raise OptionError("crop_margin", "only applies with crop=true")
    for key in ("shadow_opacity", "shadow_blur", "shadow_offset"):
        if key in raw and options.shadow == "none":
            raise OptionError(key, "only applies with shadow=soft")
    for key in ("clipping_path_name", "clipping_path_flatness"):
        if key in raw and not options.wants_clipping_path:
            raise OptionError(key, "only applies with a clipping path (clipping_path=true, or format jpg or tiff)")


def markdown_table() -> str:
    """The README's option table, one row per key."""
    rows = ["| option | values | default | what it does |", "| --- | --- | --- | --- |"]
    rows += [f"| `{s.key}` | {s.type} | `{s.default}` | {s.description} |" for s in OPTIONS]
    return "\n".join(rows)


def key_value_lines(lines: Iterable[str]) -> dict[str, str]:
    """Options written KEY=VALUE, one a line (admin form, CLI); blank lines and # comments are skipped.

    Raises ValueError naming the line (1-based) that is not KEY=VALUE; the values are checked by parse_options.
    """
    options: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"line {number} is not KEY=VALUE: {line!r}")
        options[key.strip()] = value.strip()
    return options
