"""The generative side of babelrec: LLM backends, rerankers, explanations and the chat agent."""
