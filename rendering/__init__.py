"""Final rendering: template options, the rendered image and its vector clipping path.

Pure image code: no Flask, database or queue. The render job parses the
template's options once (``parse_options``) and calls ``render`` with the
original, the approved mask and, for ``background=image``, the second image.
"""
from rendering.clipping_path import ClippingPath, to_svg, trace
from rendering.options import OPTIONS, OptionError, OutputFormat, RenderOptions, markdown_table, parse_options
from rendering.render import RenderedImage, RenderError, render

__all__ = [
    "OPTIONS",
    "ClippingPath",
    "OptionError",
    "OutputFormat",
    "RenderError",
    "RenderOptions",
    "RenderedImage",
    "markdown_table",
    "parse_options",
    "render",
    "to_svg",
    "trace",
]
