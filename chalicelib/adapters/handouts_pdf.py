"""The papers the secretariat hands out, rendered as PDF with fpdf2: the ballot's aggregation report and the
meeting's minutes, in Liberation Serif (embedded, so Vietnamese diacritics print on any reader)."""
from __future__ import annotations

from pathlib import Path

FONTS = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = FONTS / "LiberationSerif-Regular.ttf"
BOLD = FONTS / "LiberationSerif-Bold.ttf"

CHOICE_VI = {"agree": "Đồng ý", "disagree": "Không đồng ý", "other": "Ý kiến khác",
             "yes": "Tán thành", "no": "Không tán thành", "abstain": "Không biểu quyết"}
MODE_VI = {"in_room": "Tại phòng họp", "remote": "Trực tuyến", "absent": "Vắng mặt", "deputy": "Cử người dự thay"}
POSITION_VI = {"support": "Tán thành", "object": "Không tán thành", "comment": "Có ý kiến"}


def _document(title: str):
    from fpdf import FPDF  # imported on first use: the rest of the API never loads it

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(title)
    pdf.set_creator("e-Cabinet")
    pdf.add_font("Serif", "", str(REGULAR))
    pdf.add_font("Serif", "B", str(BOLD))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    return pdf


def _header(pdf, body_name: str, title: str, sub: str | None = None) -> None:
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    y = pdf.get_y()
    pdf.set_font("Serif", "B", 12)
    pdf.multi_cell(half, 6, body_name.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + half, y)
    pdf.multi_cell(half, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + half)
    pdf.set_font("Serif", "B", 11)
    pdf.multi_cell(half, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Serif", "B", 15)
    pdf.multi_cell(0, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
    if sub:
        pdf.set_font("Serif", "", 12)
        pdf.multi_cell(0, 6, sub, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _h(pdf, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("Serif", "B", 12)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")


def _p(pdf, text: str, size: int = 11) -> None:
    pdf.set_font("Serif", "", size)
    pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")


def _table(pdf, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    pdf.set_font("Serif", "", 10)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5.5,
                   headings_style=_bold_style()) as table:
        table.row(header)
        for r in rows:
            table.row([str(c) for c in r])
    pdf.ln(2)


def _bold_style():
    from fpdf.fonts import FontFace

    return FontFace(family="Serif", emphasis="BOLD")


def ballot_report(report: dict, *, body_name: str, names: dict[str, str], generated_at: str) -> bytes:
    """The final aggregation of a closed ballot: counts and outcome per question, the rule applied, the
    comments with their authors, and who did not answer."""
    pdf = _document(f"Báo cáo tổng hợp ý kiến: {report['title']}")
    _header(pdf, body_name, "BÁO CÁO TỔNG HỢP Ý KIẾN THÀNH VIÊN", report["title"])
    _p(pdf, f"Hạn trả lời: {report['deadline']}. Kết thúc lúc: {report.get('closed_at') or '—'}.")
    _p(pdf, f"Tổng số thành viên theo danh sách ngày {report['roster_date']}: {report['total_members']}. "
            f"Số người nhận phiếu: {report['recipients']}; đã trả lời: {report['answered']}.")
    _p(pdf, "Im lặng được tính là đồng ý." if report["silence_as_consent"]
       else "Im lặng không được tính là đồng ý.")
    for n, q in enumerate(report["questions"], start=1):
        _h(pdf, f"Câu {n}. {q['text']}")
        _table(pdf, ["Đồng ý", "Không đồng ý", "Ý kiến khác", "Chưa trả lời"],
               [[q["agree"], q["disagree"], q["other"], q["not_answered"]]], [1, 1, 1, 1])
        outcome = q["outcome"]
        verdict = "ĐƯỢC THÔNG QUA" if outcome.get("passed") else "KHÔNG ĐƯỢC THÔNG QUA"
        _p(pdf, f"Kết quả: {verdict} (cần tối thiểu {outcome.get('threshold')} ý kiến đồng ý).")
        if q.get("comments"):
            _table(pdf, ["Thành viên", "Lựa chọn", "Ý kiến"],
                   [[c.get("name") or names.get(c["user_id"], c["user_id"]), CHOICE_VI.get(c["choice"], c["choice"]),
                     c["comment"]] for c in q["comments"]], [3, 2, 6])
    if report["not_answered"]:
        _h(pdf, "Thành viên chưa trả lời")
        _p(pdf, ", ".join(names.get(u, u) for u in report["not_answered"]) + ".")
    _p(pdf, f"\nLập lúc {generated_at} từ hệ thống e-Cabinet; mã niêm phong: {(report.get('seal') or {}).get('leaves_digest', '—')}.",
       size=9)
    return bytes(pdf.output())


def minutes(m: dict, *, names: dict[str, str]) -> bytes:
    """The minutes of an ended meeting: its kind, attendance by name and mode, the deputies and whom they stand
    in for, quorum, and each item with its timings, positions, speakers, comments, the polls deciding it and the
    chair's conclusion."""
    pdf = _document(f"Biên bản: {m['title']}")
    _header(pdf, m["body_name"], "BIÊN BẢN PHIÊN HỌP", m["title"])
    _p(pdf, f"Phiên họp {m.get('meeting_kind_name') or 'thường kỳ'}. Địa điểm: {m.get('location') or '—'}. "
            f"Khai mạc: {m.get('started_at') or '—'}. Bế mạc: {m.get('ended_at') or '—'}.")
    q = m["quorum"]
    c = m["attendance"]["counts"]
    _p(pdf, f"Có mặt {q['present']}/{q['required']} cần thiết ({'đủ' if q['met'] else 'không đủ'} số lượng): "
            f"{c['in_room']} tại phòng họp, {c['remote']} trực tuyến, {c['absent']} vắng mặt.")
    _h(pdf, "Thành phần tham dự")
    _table(pdf, ["Thành viên", "Chức vụ", "Hình thức"],
           [[a["name"], a.get("title") or "", MODE_VI.get(a["mode"], a["mode"])] for a in m["attendance"]["members"]],
           [4, 5, 2.5])
    deputies = m["attendance"].get("deputies") or []
    if deputies:
        _h(pdf, "Người dự họp thay (không tính vào số lượng, không biểu quyết)")
        _table(pdf, ["Người dự thay", "Chức vụ", "Dự thay cho"],
               [[d["name"], d["title"], f"{d['for_name']}, {d['for_title']}".rstrip(", ")] for d in deputies],
               [3.5, 3.5, 4.5])
    for item in m["items"]:
        _h(pdf, f"{item['order']}. {item['title']}")
        if item.get("started_at"):
            _p(pdf, f"Thảo luận từ {item['started_at']} đến {item.get('ended_at') or '—'}.")
        if item["positions"]:
            _table(pdf, ["Thành viên", "Ý kiến trước phiên họp", "Nội dung"],
                   [[p["name"], POSITION_VI.get(p["position"], p["position"]), p.get("text") or ""]
                    for p in item["positions"]], [3, 2.5, 5.5])
        spoke = [s["name"] for s in item["speakers"] if s.get("granted_at")]
        if spoke:
            _p(pdf, "Phát biểu: " + ", ".join(spoke) + ".")
        for cm in item["comments"]:
            _p(pdf, f"Góp ý {cm['anchor']} ({names.get(cm['user_id'], cm['user_id'])}): {cm['text']}")
        for p in m["polls"]:
            if p.get("item_id") == item["item_id"] or item["item_id"] in (p.get("item_ids") or []):
                tally = ", ".join(f"{CHOICE_VI.get(k, k)}: {v}" for k, v in (p.get("tally") or {}).items())
                passed = (p.get("outcome") or {}).get("passed")
                verdict = "thông qua" if passed else ("không thông qua" if passed is False else "chưa kết thúc")
                _p(pdf, f"Biểu quyết «{p['question']}»: {tally or 'chưa có phiếu'}; kết quả: {verdict}.")
        if item.get("conclusion"):
            _p(pdf, f"Kết luận của chủ tọa: {item['conclusion']['text']}")
    _p(pdf, f"\nLập lúc {m['generated_at']} từ hệ thống e-Cabinet.", size=9)
    return bytes(pdf.output())
