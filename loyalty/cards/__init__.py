"""Member cards: the printed number and the short-lived signed QR token."""
