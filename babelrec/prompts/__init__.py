"""Prompt templates, stored as data files in this folder and validated on load."""
