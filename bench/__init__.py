"""Benchmarks for ESS Pratiques (issue 7, part 9). See docs/performance.md.

Nothing here is imported by the application. ``bench/readers.py`` holds the
proposed database → Polars read path, to be moved into ``consultations/queries.py``.
"""
