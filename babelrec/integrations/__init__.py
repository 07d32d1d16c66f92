"""Adapters that let other frameworks use babelrec's parts."""
