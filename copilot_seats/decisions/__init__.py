"""Judgments over desired vs live seats: standing, staleness, repairs, revocations, the guard."""
