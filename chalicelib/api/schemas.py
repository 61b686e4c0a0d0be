"""Field types shared by request schemas."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("thời điểm phải có múi giờ (ví dụ +07:00)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
IdList = Annotated[list[Id], Field(max_length=200)]
