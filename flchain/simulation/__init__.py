"""Histories produced in one process, for benchmarks and audit tests.

``synthetic`` drives a real protocol contract through many rounds with the real
client and miner rules (seeds, salts, behaviours, gas limits), without spawning
processes, so the auditor can be measured on long histories.
"""
