"""Benchmarks: each module here has a ``main()`` that prints its figures.
They measure; they never assert a time (``python -m benchmarks``)."""
