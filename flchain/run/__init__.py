"""Running a federated task as separate OS processes.

``spec`` describes a task (the JSON pinned to the store, whose CID is on chain),
``accounts`` fixes who signs as what, ``roundlog`` is the structured event log
every child writes, ``aggregate`` is the deterministic aggregation every party
repeats, ``procs`` spawns and supervises children, and ``orchestrator`` ties
them into ``flchain run``.
"""
