"""FLchain: blockchain-backed federated learning.

One update's path through the framework reads forward through the packages:
``learning`` (train, aggregate) → ``storage`` (encode, pin, fetch) → ``chain``
(submit, vote, finalize, certify) → ``audit``. Clients and miners are the two
roles built on top of them.
"""

__version__ = "0.1.0"
