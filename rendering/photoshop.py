"""Photoshop image resources (8BIM blocks) and where files keep them.

A resource block is ``8BIM``, a 2-byte id, a Pascal-string name padded to an
even length, a 4-byte size and the data padded to an even length (Adobe's
Photoshop File Formats Specification, "Image Resource Blocks"). JPEG keeps the
blocks in APP13 segments that start with ``Photoshop 3.0\\0``; one segment holds
at most 65533 bytes, so a large block list continues in the next segments,
each with the same header. TIFF keeps them in tag 34377 (ImageResources).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

PHOTOSHOP_HEADER = b"Photoshop 3.0\x00"
APP13 = 0xED
SEGMENT_PAYLOAD = 65533  # 0xFFFF minus the two length bytes
TIFF_TAG = 34377
_SIGNATURES = (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR")


@dataclass(frozen=True)
class Resource:
    id: int
    data: bytes
    name: bytes = b""
    signature: bytes = b"8BIM"


def pascal_string(text: bytes) -> bytes:
    """Length byte + text, padded to an even total length."""
    if len(text) > 255:
        raise ValueError("a Pascal string holds at most 255 bytes")
    raw = bytes([len(text)]) + text
    return raw + b"\x00" * (len(raw) % 2)


def encode_resources(resources: list[Resource]) -> bytes:
    out = bytearray()
    for res in resources:
        out += res.signature + struct.pack(">H", res.id) + pascal_string(res.name)
        out += struct.pack(">I", len(res.data)) + res.data + b"\x00" * (len(res.data) % 2)
    return bytes(out)


def decode_resources(data: bytes) -> list[Resource]:
    """Parse a block list; stops quietly at trailing bytes that are not a block."""
    out: list[Resource] = []
    pos = 0
    while pos + 12 <= len(data) and data[pos : pos + 4] in _SIGNATURES:
        signature = data[pos : pos + 4]
        (res_id,) = struct.unpack_from(">H", data, pos + 4)
        name_len = data[pos + 6]
        name = data[pos + 7 : pos + 7 + name_len]
        pos += 6 + 1 + name_len + ((1 + name_len) % 2)
        if pos + 4 > len(data):
            break
        (size,) = struct.unpack_from(">I", data, pos)
        pos += 4
        out.append(Resource(res_id, data[pos : pos + size], name, signature))
        pos += size + size % 2
    return out


def merge_resources(existing: list[Resource], new: list[Resource]) -> list[Resource]:
    """The existing blocks in their order, those with an id in ``new`` replaced by it."""
    replacing = {res.id for res in new}
    return [res for res in existing if res.id not in replacing] + list(new)


# --- JPEG -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    marker: int
    payload: bytes

    @property
    def is_photoshop(self) -> bool:
        return self.marker == APP13 and self.payload.startswith(PHOTOSHOP_HEADER)

    def encode(self) -> bytes:
        return bytes([0xFF, self.marker]) + struct.pack(">H", len(self.payload) + 2) + self.payload


def _split_jpeg(jpeg: bytes) -> tuple[list[_Segment], bytes]:
    """Marker segments up to the first SOS, and the bytes from SOS on."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG (no SOI marker)")
    segments: list[_Segment] = []
    pos = 2
    while pos < len(jpeg):
        if jpeg[pos] != 0xFF:
            raise ValueError(f"JPEG marker expected at byte {pos}")
        while pos < len(jpeg) and jpeg[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = jpeg[pos]
        if marker in (0xDA, 0xD9):  # SOS / EOI: the rest is entropy-coded data
            return segments, jpeg[pos - 1 :]
        (length,) = struct.unpack_from(">H", jpeg, pos + 1)
        segments.append(_Segment(marker, jpeg[pos + 3 : pos + 1 + length]))
        pos += 1 + length
    raise ValueError("JPEG ends before its image data")


def jpeg_resources(jpeg: bytes) -> list[Resource]:
    """The Photoshop resource blocks of a JPEG, its APP13 segments joined."""
    segments, _ = _split_jpeg(jpeg)
    joined = b"".join(seg.payload[len(PHOTOSHOP_HEADER) :] for seg in segments if seg.is_photoshop)
    return decode_resources(joined)


def embed_in_jpeg(jpeg: bytes, resources: bytes) -> bytes:
    """``jpeg`` with the 8BIM blocks ``resources`` merged into its Photoshop APP13 (created if absent).

    Blocks the file already had (IPTC 0x0404 and the rest) are kept unless a new
    block has the same id. The merged list goes where the first Photoshop APP13
    was, or after the leading APPn segments, split over as many segments as needed.
    """
    segments, rest = _split_jpeg(jpeg)
    existing = decode_resources(
        b"".join(seg.payload[len(PHOTOSHOP_HEADER) :] for seg in segments if seg.is_photoshop)
    )
    block = encode_resources(merge_resources(existing, decode_resources(resources)))
    at = next((i for i, seg in enumerate(segments) if seg.is_photoshop), None)
    if at is None:
        at = _after_app_segments(segments)
    kept = [seg for seg in segments[:at] if not seg.is_photoshop]
    tail = [seg for seg in segments[at:] if not seg.is_photoshop]
    out = bytearray(b"\xff\xd8")
    for seg in kept + _app13_segments(block) + tail:
        out += seg.encode()
    return bytes(out + rest)


def _after_app_segments(segments: list[_Segment]) -> int:
    index = 0
    while index < len(segments) and 0xE0 <= segments[index].marker <= 0xEF:
        index += 1
    return index


def _app13_segments(block: bytes) -> list[_Segment]:
    room = SEGMENT_PAYLOAD - len(PHOTOSHOP_HEADER)
    return [_Segment(APP13, PHOTOSHOP_HEADER + block[i : i + room]) for i in range(0, len(block), room)]


# --- TIFF -----------------------------------------------------------------------------------------

_UNDEFINED = 7


def tiff_resources(tiff: bytes) -> list[Resource]:
    """The resource blocks in the first IFD's tag 34377, if any."""
    order, ifd = _tiff_header(tiff)
    for tag, typ, count, value in _ifd_entries(tiff, order, ifd):
        if tag == TIFF_TAG:
            return decode_resources(_entry_data(tiff, order, typ, count, value))
    return []


def embed_in_tiff(tiff: bytes, resources: bytes) -> bytes:
    """``tiff`` with the 8BIM blocks ``resources`` merged into tag 34377 of its first image.

    The pixel data and every other tag stay where they are: the merged block
    list and a rewritten first IFD are appended, and the header points at the
    new IFD. Classic TIFF only (not BigTIFF).
    """
    order, ifd = _tiff_header(tiff)
    entries = _ifd_entries(tiff, order, ifd)
    existing: list[Resource] = []
    for tag, typ, count, value in entries:
        if tag == TIFF_TAG:
            existing = decode_resources(_entry_data(tiff, order, typ, count, value))
    block = encode_resources(merge_resources(existing, decode_resources(resources)))
    out = bytearray(tiff)
    out += b"\x00" * (len(out) % 2)  # TIFF offsets are word aligned
    block_at = len(out)
    out += block + b"\x00" * (len(block) % 2)
    new_entry = (TIFF_TAG, _UNDEFINED, len(block), struct.pack(order + "I", block_at))
    kept = [e for e in entries if e[0] != TIFF_TAG]
    table = sorted(kept + [new_entry], key=lambda e: e[0])  # TIFF wants ascending tags
    (next_ifd,) = struct.unpack_from(order + "I", tiff, ifd + 2 + 12 * len(entries))
    ifd_at = len(out)
    out += struct.pack(order + "H", len(table))
    for tag, typ, count, value in table:
        out += struct.pack(order + "HHI", tag, typ, count) + value
    out += struct.pack(order + "I", next_ifd)
    struct.pack_into(order + "I", out, 4, ifd_at)
    return bytes(out)


def _tiff_header(tiff: bytes) -> tuple[str, int]:
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        raise ValueError("not a classic TIFF")
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    return order, ifd


def _ifd_entries(tiff: bytes, order: str, ifd: int) -> list[tuple[int, int, int, bytes]]:
    """(tag, type, count, the raw 4-byte value/offset field) for each entry."""
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    entries = []
    for i in range(count):
        at = ifd + 2 + 12 * i
        tag, typ, n = struct.unpack_from(order + "HHI", tiff, at)
        entries.append((tag, typ, n, tiff[at + 8 : at + 12]))
    return entries


def _entry_data(tiff: bytes, order: str, typ: int, count: int, value: bytes) -> bytes:
    # Only byte-sized types make sense for 34377; others are read as their raw bytes.
    size = count * {3: 2, 4: 4, 8: 2, 9: 4, 11: 4, 12: 8}.get(typ, 1)
    if size <= 4:
        return value[:size]
    (offset,) = struct.unpack(order + "I", value)
    return tiff[offset : offset + size]
