"""The miner role: score every update of a round (proof-of-quality), vote with
commit-reveal, finalise the round, and attest the aggregate.

``scoring`` holds the pure scoring rules, ``salt`` the deterministic vote salt,
``miner`` the per-round loop.
"""
