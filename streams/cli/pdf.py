"""A plain PDF of text lines: A4 pages in a fixed-width font, for printed statements.

The file uses one of PDF's standard fonts (Courier), so it embeds nothing and any
reader shows it. Those fonts cover Windows-1252 (WinAnsiEncoding: Latin-1 and
typographic marks such as dashes) only: another character is printed as "?" (the
CSV export keeps every character).
"""

from __future__ import annotations

from collections.abc import Sequence

_WIDTH, _HEIGHT = 595, 842  # A4 in points
_MARGIN, _SIZE, _LEADING = 40, 8, 11
LINES_PER_PAGE = (_HEIGHT - 2 * _MARGIN) // _LEADING
COLUMNS = 104  # what fits across at this size


def _text(line: str) -> bytes:
    """A PDF string literal of ``line`` in WinAnsiEncoding, with its special
    characters escaped."""
    latin = line[:COLUMNS].encode("cp1252", errors="replace")
    for special in (b"\\", b"(", b")"):
        latin = latin.replace(special, b"\\" + special)
    return b"(" + latin + b")"


def _page_stream(lines: Sequence[str]) -> bytes:
    top = _HEIGHT - _MARGIN - _SIZE
    body = [b"BT", f"/F1 {_SIZE} Tf {_LEADING} TL {_MARGIN} {top} Td".encode()]
    body.extend(_text(line) + b" '" for line in lines)
    body.append(b"ET")
    return b"\n".join(body)


def render(lines: Sequence[str]) -> bytes:
    """A PDF of ``lines``, ``LINES_PER_PAGE`` to a page, every page numbered."""
    pages = [
        list(lines[start : start + LINES_PER_PAGE])
        for start in range(0, max(len(lines), 1), LINES_PER_PAGE)
    ]
    count = len(pages)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier "
        b"/Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for number, page in enumerate(pages, start=1):
        stream = _page_stream([*page, "", f"page {number} of {count}"])
        objects.append(
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (_WIDTH, _HEIGHT, len(objects))
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), count)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
