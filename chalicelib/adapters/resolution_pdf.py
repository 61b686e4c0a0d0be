"""The resolution's PDF in the layout of Decree 30/2020 (Annex I), drawn with fpdf2 in Liberation Serif (the
metrics of Times New Roman, SIL OFL: embedding allowed; a subset is embedded).

The number and the date are not drawn: the clerk stamps them when the body's seal is applied, after the
signer signed. The page leaves their places blank and tells where they are (`Rendered.stamps`), so that the
signing step can put form fields there and the issuing step fill them in a later revision."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FAMILY = "LiberationSerif"
# A4 and the margins of Decree 30/2020 (top 20-25 mm, bottom 20-25 mm, left 30-35 mm, right 15-20 mm).
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 30.0, 15.0, 20.0, 20.0
MM = 72 / 25.4  # PDF points per millimetre
# The left and right columns of the header (issuing body | national motto and date line).
HEAD_LEFT_W, HEAD_RIGHT_W = 70.0, PAGE_W - LEFT - RIGHT - 70.0
# The width of each stamped field: the number with its symbol, the day, the month, the year.
STAMP_WIDTHS = {"number": 34.0, "day": 8.0, "month": 8.0, "year": 11.0}


@dataclass(frozen=True)
class Content:
    """What the page says; every string is Vietnamese as printed."""
    body_name: str               # CHÍNH PHỦ, ỦY BAN NHÂN DÂN TỈNH ...
    parent_name: str | None      # the line above a local body's name, if any
    symbol: str                  # NQ-CP: printed after the number's blank
    place: str                   # Hà Nội
    title: str                   # the resolution's title (after NGHỊ QUYẾT)
    authority: str               # the body in the enacting line (CHÍNH PHỦ / ỦY BAN NHÂN DÂN ...)
    bases: list[str]             # Căn cứ ...;
    articles: list[tuple[str, str]]  # (Điều 1., text)
    recipients: list[str]        # Nơi nhận: lines
    block: list[str]             # TM. CHÍNH PHỦ / KT. THỦ TƯỚNG / PHÓ THỦ TƯỚNG
    signer_name: str


@dataclass
class Rendered:
    pdf: bytes
    # Where the number, day, month and year go: name → (page index, [x1, y1, x2, y2] in PDF points).
    stamps: dict[str, tuple[int, list[float]]] = field(default_factory=dict)
    pages: int = 1


def _fpdf():
    from fpdf import FPDF  # imported on first use: only signing renders

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    pdf.add_font(FAMILY, "", str(FONTS / "LiberationSerif-Regular.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "LiberationSerif-Bold.ttf"))
    pdf.add_font(FAMILY, "I", str(FONTS / "LiberationSerif-Italic.ttf"))
    pdf.set_creator("e-Cabinet")
    pdf.set_lang("vi")
    return pdf


def _rect(pdf, x: float, y: float, w: float, h: float) -> tuple[int, list[float]]:
    """A box given in millimetres from the top left, as PDF points from the bottom left."""
    return pdf.page - 1, [round(x * MM, 2), round((PAGE_H - y - h) * MM, 2), round((x + w) * MM, 2),
                          round((PAGE_H - y) * MM, 2)]


def _rule(pdf, x_center: float, y: float, length: float) -> None:
    pdf.set_line_width(0.3)
    pdf.line(x_center - length / 2, y, x_center + length / 2, y)


def render(c: Content) -> Rendered:
    pdf = _fpdf()
    pdf.add_page()
    stamps: dict[str, tuple[int, list[float]]] = {}
    top = pdf.get_y()

    # Left column: the issuing body, a short rule, the number and symbol.
    pdf.set_xy(LEFT, top)
    if c.parent_name:
        pdf.set_font(FAMILY, "", 12)
        pdf.multi_cell(HEAD_LEFT_W, 6, c.parent_name.upper(), align="C")
        pdf.set_x(LEFT)
    pdf.set_font(FAMILY, "B", 13)
    pdf.multi_cell(HEAD_LEFT_W, 6, c.body_name.upper(), align="C")
    y = pdf.get_y() + 1
    _rule(pdf, LEFT + HEAD_LEFT_W / 2, y, 20)
    y += 3
    pdf.set_font(FAMILY, "", 13)
    label = "Số: "
    label_w = pdf.get_string_width(label)
    x = LEFT + (HEAD_LEFT_W - label_w - STAMP_WIDTHS["number"]) / 2
    pdf.set_xy(x, y)
    pdf.cell(label_w, 6, label)
    stamps["number"] = _rect(pdf, x + label_w, y, STAMP_WIDTHS["number"], 6)
    left_bottom = y + 6

    # Right column: the national motto, a rule as long as the motto line, the place and date line.
    right_x = LEFT + HEAD_LEFT_W
    pdf.set_xy(right_x, top)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(HEAD_RIGHT_W, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 13)
    motto = "Độc lập - Tự do - Hạnh phúc"
    pdf.cell(HEAD_RIGHT_W, 6, motto, align="C", new_x="LEFT", new_y="NEXT")
    y = pdf.get_y() + 1
    _rule(pdf, right_x + HEAD_RIGHT_W / 2, y, pdf.get_string_width(motto))
    y += 3
    pdf.set_font(FAMILY, "I", 13)
    parts = [(f"{c.place}, ngày ", None), ("", "day"), (" tháng ", None), ("", "month"), (" năm ", None),
             ("", "year")]
    width = sum(pdf.get_string_width(t) if name is None else STAMP_WIDTHS[name] for t, name in parts)
    x = right_x + (HEAD_RIGHT_W - width) / 2
    for text, name in parts:
        if name is None:
            w = pdf.get_string_width(text)
            pdf.set_xy(x, y)
            pdf.cell(w, 6, text)
        else:
            w = STAMP_WIDTHS[name]
            stamps[name] = _rect(pdf, x, y, w, 6)
        x += w
    pdf.set_y(max(left_bottom, y + 6) + 8)

    # The document type and the title, centred and bold, with a short rule under them.
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 7, "NGHỊ QUYẾT", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 7, c.title, align="C", new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y() + 1.5
    _rule(pdf, LEFT + (PAGE_W - LEFT - RIGHT) / 2, y, 40)
    pdf.set_y(y + 5)

    # The enacting body, the grounds, QUYẾT NGHỊ and the articles.
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 7, c.authority.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, "I", 14)
    for line in c.bases:
        pdf.multi_cell(0, 7, "        " + line, align="J", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 7, "QUYẾT NGHỊ:", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for heading, text in c.articles:
        pdf.set_font(FAMILY, "B", 14)
        pdf.write(7, "        " + heading + " ")
        pdf.set_font(FAMILY, "", 14)
        pdf.write(7, text)
        pdf.ln(9)

    # Nơi nhận on the left, the signature block on the right; kept together on one page.
    pdf.ln(4)
    needed = 7 * max(len(c.recipients) + 1, len(c.block) + 5)
    if pdf.get_y() + needed > PAGE_H - BOTTOM:
        pdf.add_page()
    y = pdf.get_y()
    pdf.set_xy(LEFT, y)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(HEAD_LEFT_W, 6, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 11)
    for line in c.recipients:
        pdf.set_x(LEFT)
        pdf.multi_cell(HEAD_LEFT_W, 5, line, new_x="LMARGIN", new_y="NEXT")
    block_x = LEFT + HEAD_LEFT_W + 10
    block_w = PAGE_W - RIGHT - block_x
    pdf.set_xy(block_x, y)
    pdf.set_font(FAMILY, "B", 13)
    for line in c.block:
        pdf.set_x(block_x)
        pdf.cell(block_w, 6.5, line, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(block_x, pdf.get_y() + 22)  # room for the signature
    pdf.cell(block_w, 6.5, c.signer_name, align="C")
    return Rendered(pdf=bytes(pdf.output()), stamps=stamps, pages=pdf.page)


def text_width_pt(text: str, size: float) -> float:
    """The width of ASCII `text` in Times-Roman at `size` points (Liberation Serif has the same metrics), for
    centring the stamped number and date."""
    widths = _ascii_widths()
    return sum(widths.get(ch, 500) for ch in text) * size / 1000


_WIDTHS: dict[str, int] = {}


def _ascii_widths() -> dict[str, int]:
    if not _WIDTHS:
        from fontTools.ttLib import TTFont

        font = TTFont(str(FONTS / "LiberationSerif-Regular.ttf"), lazy=True)
        scale = 1000 / font["head"].unitsPerEm
        cmap, hmtx = font.getBestCmap(), font["hmtx"]
        for code in range(32, 127):
            glyph = cmap.get(code)
            if glyph:
                _WIDTHS[chr(code)] = round(hmtx[glyph][0] * scale)
    return _WIDTHS
