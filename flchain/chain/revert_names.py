"""Names of every custom error the FLchain contracts can revert with.

Generated from the compiled ABIs by ``flchain build``; do not edit. Compare a
:class:`~flchain.exceptions.ContractRevertError`'s ``name`` with these members.
"""

from __future__ import annotations

from enum import StrEnum


class RevertName(StrEnum):
    """A custom error of ``FLProtocol`` or ``FLToken`` (OpenZeppelin's included)."""

    AccessControlBadConfirmation = "AccessControlBadConfirmation"
    AccessControlUnauthorizedAccount = "AccessControlUnauthorizedAccount"
    AlreadyAttested = "AlreadyAttested"
    AlreadyCommitted = "AlreadyCommitted"
    AlreadyRegistered = "AlreadyRegistered"
    AlreadyRevealed = "AlreadyRevealed"
    AlreadySubmitted = "AlreadySubmitted"
    BondLocked = "BondLocked"
    CertificationClosed = "CertificationClosed"
    ClientSlotsFull = "ClientSlotsFull"
    CommitmentMismatch = "CommitmentMismatch"
    ERC20InsufficientAllowance = "ERC20InsufficientAllowance"
    ERC20InsufficientBalance = "ERC20InsufficientBalance"
    ERC20InvalidApprover = "ERC20InvalidApprover"
    ERC20InvalidReceiver = "ERC20InvalidReceiver"
    ERC20InvalidSender = "ERC20InvalidSender"
    ERC20InvalidSpender = "ERC20InvalidSpender"
    EmptyCommitment = "EmptyCommitment"
    InsufficientBond = "InsufficientBond"
    InvalidCid = "InvalidCid"
    InvalidParameter = "InvalidParameter"
    NotAttester = "NotAttester"
    NotClient = "NotClient"
    NotCommitted = "NotCommitted"
    NotInCommittee = "NotInCommittee"
    NotInPhase = "NotInPhase"
    NotMinter = "NotMinter"
    NotRegistered = "NotRegistered"
    NotSampled = "NotSampled"
    NothingToClaim = "NothingToClaim"
    NothingToWithdraw = "NothingToWithdraw"
    PendingWithdrawal = "PendingWithdrawal"
    ReentrancyGuardReentrantCall = "ReentrancyGuardReentrantCall"
    RoundAlreadyFinalized = "RoundAlreadyFinalized"
    RoundNotFinalized = "RoundNotFinalized"
    SafeCastOverflowedUintDowncast = "SafeCastOverflowedUintDowncast"
    ScoreOutOfRange = "ScoreOutOfRange"
    SlotsAlreadyPrepared = "SlotsAlreadyPrepared"
    SlotsNotPrepared = "SlotsNotPrepared"
    StillRegistered = "StillRegistered"
    TaskFinished = "TaskFinished"
    TooManyClients = "TooManyClients"
    TooManyMiners = "TooManyMiners"
    TooManySamples = "TooManySamples"
    TrainingAlreadyStarted = "TrainingAlreadyStarted"
    WithdrawFailed = "WithdrawFailed"
    WrongScoreCount = "WrongScoreCount"
    ZeroSamples = "ZeroSamples"
