"""What runs inside one client or miner process.

``party`` joins a task (account, chain port, store, spec), ``port`` is the
typed :class:`ChainPort` the roles talk to the chain through (``memchain`` is an
in-memory one for unit tests), ``participant`` is the base of both roles
(register, wait for phases, fetch, aggregate locally, pin), ``workload`` builds
the task's program (built-in data and model, or a Flower app: see
``flchain.app``), ``behaviours`` names what a party may do (honest or one of the
adversaries), ``roundlog`` is the structured event log every party writes,
and ``child`` is the shared start-up and run of the ``flchain client``/``miner``
processes.
The roles themselves live in the top-level ``clients`` and ``miners`` packages.
"""
