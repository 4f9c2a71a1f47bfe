"""What a task trains: the one seam between FLchain and the learning code it runs.

A :class:`~flchain.app.program.TaskProgram` gives the initial model, trains a
partition from a global model and evaluates weights on a partition. A task
module in plain PyTorch runs as a :class:`~flchain.app.module.ModuleProgram`
(its source certified like an app's, :mod:`flchain.app.source`); the built-in
models and data sets are such a module (:mod:`flchain.app.builtin`); a Flower
app is the other kind of program (:mod:`flchain.app.flower`). Clients, miners, the
orchestrator and the auditor reach the learning code only through it.
"""
