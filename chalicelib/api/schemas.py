"""Field types shared by request schemas."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("thời điểm phải có múi giờ (ví dụ +07:00)")
    try:
        year = value.astimezone(timezone.utc).year
    except OverflowError:
        year = 0
    if not 2000 <= year <= 2100:
        raise ValueError("thời điểm phải nằm trong khoảng năm 2000 đến 2100")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


def _measure(value: float) -> float:
    # DynamoDB stores numbers down to 1e-130 only; a figure finer than a thousandth is a mistake, not a reading.
    if value != 0 and abs(value) < 0.001:
        raise ValueError("giá trị quá nhỏ (tối thiểu 0,001)")
    return round(value, 3)


Measure = Annotated[float, AfterValidator(_measure)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
IdList = Annotated[list[Id], Field(max_length=200)]
