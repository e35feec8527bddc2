"""Benchmarks: seeded simulated suites and the real live-fire data (scoring lives here;
no answer-producing code reads the truth)."""
