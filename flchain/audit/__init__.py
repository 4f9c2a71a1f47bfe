"""Auditing a task's training history from the chain and content addresses alone.

The package reads top-down:

* :mod:`flchain.audit.history` — where the history comes from (node, task, store);
  the chain itself is read by :mod:`flchain.chain.history`;
* :mod:`flchain.audit.checks` — pure recomputations mirroring the contract
  (commitments, medians, acceptance, reputation, rewards, slashes);
* :mod:`flchain.audit.ledger` — replays the protocol's bookkeeping and compares;
* :mod:`flchain.audit.models` — fetches, verifies, re-aggregates and evaluates models;
* :mod:`flchain.audit.auditor` — joins both into an :class:`AuditReport`;
* :mod:`flchain.audit.report` and :mod:`flchain.audit.html` — terminal, JSON, HTML.

Discrepancies are data (:class:`Discrepancy`), never exceptions: a missing or
corrupted model flags its round and the audit goes on.
"""

from __future__ import annotations
