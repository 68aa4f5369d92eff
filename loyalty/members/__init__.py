"""Members: enrolment, cards, accounts."""
