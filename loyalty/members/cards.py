"""Printed card numbers: 12 random digits plus a Luhn check digit."""

import secrets

CARD_PREFIX = "7"  # private-label range; keeps card numbers apart from payment cards
CARD_LENGTH = 13


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return len(number) == CARD_LENGTH and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number() -> str:
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(CARD_LENGTH - 2))
    return body + luhn_check_digit(body)


def normalize_card_number(text: str) -> str:
    """Cashiers type card numbers with spaces or dashes; keep only the digits."""
    return "".join(ch for ch in text if ch.isdigit())
