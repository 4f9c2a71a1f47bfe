"""What a task trains: the one seam between FLchain and the learning code it runs.

A :class:`~flchain.app.program.TaskProgram` gives the initial model, trains a
partition from a global model and evaluates weights on a partition. The
built-in models and data sets are one program (:mod:`flchain.app.builtin`); a
Flower app is another (:mod:`flchain.app.flower`). Clients, miners, the
orchestrator and the auditor reach the learning code only through it.
"""
