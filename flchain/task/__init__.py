"""The rules of a task that every party and the auditor share.

``spec`` describes a task (the JSON pinned to the store, whose CID is on chain),
``accounts`` fixes which account index signs as what, ``quality`` holds the
proof-of-quality rules that turn an update into a score, and ``aggregate`` the
deterministic aggregation every party repeats. Nothing here starts a process or
talks to a chain: a client, a miner and the auditor import the same rules.
"""
