"""The client role: train on private data, pin and submit the update, then
aggregate the round's accepted updates locally and check the result against
the CID the chain certifies.

``behaviours`` holds the honest and the malicious update rules, ``client`` the
per-round loop.
"""
