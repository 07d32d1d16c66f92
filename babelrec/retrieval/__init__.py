"""Retrieval: embedders, the Chroma vector store and ingestion."""
