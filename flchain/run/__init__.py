"""Spawning and following a federated task as separate OS processes.

``setup`` deploys and configures a task, ``network`` brings up the chain node
it runs on, ``procs`` spawns and supervises the client and miner processes,
``monitor`` follows the rounds on chain, ``progress`` draws the live table,
``metrics`` and ``report`` write what happened, and ``orchestrator`` ties them
into ``flchain run``.
"""
