"""The offline evaluation harness: datasets, protocols, rankers, metrics and reports."""
