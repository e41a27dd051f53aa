"""Drafting seed annotations from plain-text trade news, by readable rules (no model)."""
