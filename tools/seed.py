"""The demo body `chinh-phu`: the 27-member Government of 2019 with its secretariat and an assistant for each
member (generic names), seeded through the same services the API uses."""
from __future__ import annotations

from datetime import date

GOVERNMENT_ID = "chinh-phu"
TERM_START = date(2016, 4, 9)

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
           "Dương", "Lý"]
_MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Hữu", "Quang", "Thanh", "Xuân"]
_GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hùng", "Khánh", "Lan", "Long", "Mai", "Nam", "Nga",
          "Phong", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Trung", "Tú", "Việt", "Yến", "Hạnh", "Hiếu", "Kiên"]
MINISTRIES = [
    "Bộ trưởng Bộ Quốc phòng", "Bộ trưởng Bộ Công an", "Bộ trưởng Bộ Ngoại giao", "Bộ trưởng Bộ Nội vụ",
    "Bộ trưởng Bộ Tư pháp", "Bộ trưởng Bộ Kế hoạch và Đầu tư", "Bộ trưởng Bộ Tài chính", "Bộ trưởng Bộ Công Thương",
    "Bộ trưởng Bộ Nông nghiệp và Phát triển nông thôn", "Bộ trưởng Bộ Giao thông vận tải", "Bộ trưởng Bộ Xây dựng",
    "Bộ trưởng Bộ Tài nguyên và Môi trường", "Bộ trưởng Bộ Thông tin và Truyền thông",
    "Bộ trưởng Bộ Lao động - Thương binh và Xã hội", "Bộ trưởng Bộ Văn hóa, Thể thao và Du lịch",
    "Bộ trưởng Bộ Khoa học và Công nghệ", "Bộ trưởng Bộ Giáo dục và Đào tạo", "Bộ trưởng Bộ Y tế",
    "Bộ trưởng, Chủ nhiệm Ủy ban Dân tộc", "Thống đốc Ngân hàng Nhà nước Việt Nam", "Tổng Thanh tra Chính phủ",
    "Bộ trưởng, Chủ nhiệm Văn phòng Chính phủ",
]


def _name(i: int) -> str:
    return f"{_FAMILY[i % len(_FAMILY)]} {_MIDDLE[(i * 3) % len(_MIDDLE)]} {_GIVEN[(i * 5) % len(_GIVEN)]}"


def government_2019() -> list[dict]:
    """The 27 members (1 chair, 4 deputy chairs, 22 heads of ministries), each followed by their assistant,
    then the secretariat."""
    people = [("thu-tuong", "chair", "Thủ tướng Chính phủ")]
    people += [(f"pho-thu-tuong-{n}", "deputy_chair", "Phó Thủ tướng Chính phủ") for n in range(1, 5)]
    people += [(f"bo-truong-{n:02d}", "member", title) for n, title in enumerate(MINISTRIES, start=1)]
    rows = []
    for i, (user_id, role, title) in enumerate(people):
        rows.append({"user_id": user_id, "name": _name(i), "role": role, "title": title,
                     "phone": f"+84 90{i:07d}", "email": f"{user_id}@example.gov.vn", "term_start": TERM_START})
        rows.append({"user_id": f"tro-ly-{user_id}", "name": _name(i + 40), "role": "assistant",
                     "title": f"Trợ lý {title}", "phone": f"+84 91{i:07d}", "email": f"tro-ly-{user_id}@example.gov.vn",
                     "term_start": TERM_START, "assistant_of": user_id})
    rows.append({"user_id": "vpcp-chuyen-vien", "name": "Đinh Thị Thu", "role": "secretariat",
                 "title": "Chuyên viên Văn phòng Chính phủ", "phone": "+84 920000001",
                 "email": "vpcp-chuyen-vien@example.gov.vn", "term_start": TERM_START})
    rows.append({"user_id": "vu-phap-luat-bo-tu-phap", "name": "Vụ Pháp luật, Bộ Tư pháp", "role": "drafting_agency",
                 "title": "Cơ quan chủ trì soạn thảo", "phone": "+84 930000001",
                 "email": "vu-phap-luat@example.gov.vn", "term_start": TERM_START})
    return rows


def demo_users() -> list[tuple[str, str, str]]:
    """(user_id, what they are, name) of one demo user per kind of person, for `make run` to print."""
    rows = {row["user_id"]: row for row in government_2019()}
    picks = [("thu-tuong", "chair (Prime Minister)"), ("pho-thu-tuong-1", "deputy chair"),
             ("bo-truong-01", "member (minister; bo-truong-01…22)"),
             ("vpcp-chuyen-vien", "secretariat clerk"), ("tro-ly-bo-truong-01", "assistant of bo-truong-01"),
             ("vu-phap-luat-bo-tu-phap", "drafting agency")]
    out = [(user_id, role, rows[user_id]["name"]) for user_id, role in picks]
    out.append(("platform-admin", "platform administrator", "(not on the roster; administers every body)"))
    return out


def seed(body_id: str = GOVERNMENT_ID, name: str = "Chính phủ nước Cộng hòa xã hội chủ nghĩa Việt Nam",
         rows: list[dict] | None = None, level: str = "central", parent_id: str | None = None) -> bool:
    """Create the body and its roster unless it exists; True when it was created now."""
    from chalicelib.services.context import Principal
    from chalicelib.adapters import store
    from chalicelib.services import bodies

    if store.get(f"BODY#{body_id}", "BODY") is not None:
        return False
    admin = Principal("platform-admin", True)
    bodies.create_body(admin, body_id, name, level, {}, parent_id)
    for row in rows or government_2019():
        fields = {k: row.get(k) for k in ("name", "role", "title", "phone", "email", "term_start", "term_end",
                                          "assistant_of")}
        # The initial roster of a body being created is not news to its chair: no roster_changed notices.
        bodies.put_member(admin, body_id, row["user_id"], fields, notify_chair=False)
    return True


def certify_demo_members(body_id: str = GOVERNMENT_ID) -> int:
    """Give every seeded member with a vote a development certificate (stage local only); the private keys
    are kept under the local state folder so demo clients can sign."""
    import os
    from pathlib import Path

    from chalicelib.adapters.dev_ca import DevCA
    from chalicelib.services.context import Principal
    from chalicelib.services import signatures

    state = Path(os.environ.get("LOCAL_STATE_DIR", ".local"))
    ca = DevCA.load_or_create(state / "dev-ca")
    keys = state / "demo-keys"
    keys.mkdir(parents=True, exist_ok=True)
    count = 0
    for row in government_2019():
        if row["role"] not in ("chair", "deputy_chair", "member"):
            continue
        key_pem, cert_pem = ca.issue(row["user_id"], name=row["name"])
        signatures.register(Principal("platform-admin", True), body_id, row["user_id"], cert_pem)
        path = keys / f"{row['user_id']}.key.pem"
        path.write_text(key_pem)
        path.chmod(0o600)
        count += 1
    return count


DEMO_PROVINCES = [("ha-noi", "Ủy ban nhân dân thành phố Hà Nội"), ("hue", "Ủy ban nhân dân thành phố Huế")]


def seed_demo_provinces(parent_id: str = GOVERNMENT_ID) -> list[str]:
    """Two provinces under the Government, each with a chair and a secretariat, so that resolutions and dossiers
    can be exchanged in the demo (`<province>-chu-tich`, `<province>-van-phong`)."""
    created = []
    for body_id, name in DEMO_PROVINCES:
        rows = [{"user_id": f"{body_id}-chu-tich", "name": f"Chủ tịch {name}", "role": "chair",
                 "title": "Chủ tịch UBND", "email": f"chu-tich@{body_id}.example.gov.vn", "term_start": TERM_START},
                {"user_id": f"{body_id}-van-phong", "name": f"Văn phòng {name}", "role": "secretariat",
                 "title": "Chuyên viên Văn phòng UBND", "email": f"van-phong@{body_id}.example.gov.vn",
                 "term_start": TERM_START}]
        if seed(body_id, name, rows=rows, level="province", parent_id=parent_id):
            created.append(body_id)
    return created
