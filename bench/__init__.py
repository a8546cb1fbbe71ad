"""Benchmarks: Switchboard's cost over the database work a request cannot avoid."""
