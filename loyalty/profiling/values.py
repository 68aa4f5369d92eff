"""Field values by type: validate what a member typed, store it as text, hand it to the rules."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from loyalty.errors import InvalidInput

Value = str | int | bool | Decimal

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
MAX_TEXT = 200


def to_stored(kind: str, raw: Any, options: list[str] | None = None) -> str:
    """The canonical text of `raw` for a field of `kind`, or InvalidInput (422)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput("Please give a value.", code="invalid_value")
    if kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
            raise InvalidInput("This needs a number.", code="invalid_value")
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation as exc:
            raise InvalidInput("This needs a number.", code="invalid_value") from exc
        if not number.is_finite() or abs(number) > Decimal("1e12"):
            raise InvalidInput("This needs a number.", code="invalid_value")
        return format(number.normalize(), "f") if number != number.to_integral() else str(int(number))
    if kind == "date":
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError as exc:
            raise InvalidInput("This needs a date as YYYY-MM-DD.", code="invalid_value") from exc
    if kind == "bool":
        if isinstance(raw, bool):
            return "true" if raw else "false"
        text = str(raw).strip().lower()
        if text in _TRUE | _FALSE:
            return "true" if text in _TRUE else "false"
        raise InvalidInput("This needs yes or no.", code="invalid_value")
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidInput("This needs text.", code="invalid_value")
    text = str(raw).strip()
    if kind == "choice":
        if text not in (options or []):
            raise InvalidInput(f"Choose one of: {', '.join(options or [])}.", code="invalid_value")
        return text
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"At most {MAX_TEXT} characters, please.", code="invalid_value")
    return text


def from_stored(kind: str, stored: str) -> Value:
    """The value as the rules' `member.profile` expects it (dates as YYYY-MM-DD)."""
    if kind == "number":
        number = Decimal(stored)
        return int(number) if number == number.to_integral() else number
    if kind == "bool":
        return stored == "true"
    return stored
