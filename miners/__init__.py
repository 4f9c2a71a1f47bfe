"""The miner role: score every update of a round (proof-of-quality), vote with
commit-reveal, finalise the round, and attest the aggregate.

``miner`` is the per-round loop, ``salt`` the deterministic vote salt and
``behaviours`` the lying miners of the attack lab; the scoring rules themselves are
shared with the auditor in :mod:`flchain.task.quality`.
"""
