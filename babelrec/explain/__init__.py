"""Explanations of picks, grounded in what the user said and read."""

from __future__ import annotations

from babelrec.explain.explainer import Explainer

__all__ = ["Explainer"]
