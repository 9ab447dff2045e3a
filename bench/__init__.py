"""Benchmarks: `python -m bench [name]` runs bench_<name>.py (all of them without a name).

Never part of the test suite; each benchmark creates and drops its own database."""
