"""Ranking stages: user vectors, the bilinear ranker, collaborative models and the hybrid."""
