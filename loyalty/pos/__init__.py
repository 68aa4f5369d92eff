"""The till: identify a card, book purchases, redemptions, returns and walk-in enrolments."""
