"""The audit's privacy section: ε recomputed from the spec and the chain's submissions."""

from __future__ import annotations

from flchain.audit.privacy import privacy_line, privacy_report
from flchain.chain.history_types import RoundRecord
from flchain.chain.protocol_types import Submission
from flchain.learning import dp
from flchain.task.privacy import for_epsilon
from flchain.task.spec import DPSpec, TaskSpec
from flchain.types import Address, CIDStr

A, B = Address("0x" + "a" * 40), Address("0x" + "b" * 40)


def _round(r: int, *clients: Address) -> RoundRecord:
    subs = [Submission(r, i, c, CIDStr(f"cid{r}{i}"), 10, 1) for i, c in enumerate(clients)]
    return RoundRecord(round=r, submissions=subs)


def test_epsilon_counts_each_client_s_submissions_round_by_round() -> None:
    spec = TaskSpec(dp=DPSpec(clip=1.0, noise_multiplier=1.3))
    section, found = privacy_report(spec, [_round(0, A, B), _round(1, B), _round(2)])
    assert found == [] and section is not None
    one, two = (round(dp.epsilon(1.0, 1.3, n, 1e-5)[0], 6) for n in (1, 2))
    assert section["epsilon_by_round"] == {
        "0": {A: one, B: one},
        "1": {A: one, B: two},
        "2": {A: one, B: two},
    }
    assert section["epsilon"] == {A: one, B: two} and section["max_epsilon"] == two
    assert (section["clip"], section["noise_multiplier"]) == (1.0, 1.3)


def test_a_client_beyond_the_target_epsilon_is_a_discrepancy() -> None:
    settings = for_epsilon(clip=1.0, target=6.0, rounds=2)
    within = [_round(0, A, B), _round(1, A, B)]
    assert privacy_report(TaskSpec(rounds=2, dp=settings), within)[1] == []
    beyond = [*within, _round(2, A)]  # a third release: more than the noise was derived for
    _, found = privacy_report(TaskSpec(rounds=2, dp=settings), beyond)
    assert [(d.check, d.subject, d.chain_value) for d in found] == [("dp ε within target", A, 6.0)]
    assert found[0].recomputed > 6.0


def test_no_dp_no_section() -> None:
    assert privacy_report(TaskSpec(), [_round(0, A)]) == (None, [])
    assert privacy_report(None, [_round(0, A)]) == (None, [])


def test_the_report_line_names_the_settings_the_largest_epsilon_and_the_target() -> None:
    settings = for_epsilon(clip=2.0, target=6.0, rounds=2)
    section, _ = privacy_report(TaskSpec(rounds=2, dp=settings), [_round(0, A), _round(1, A)])
    assert section is not None
    line = privacy_line(section)
    assert line.startswith("differential privacy: clip 2, noise multiplier ")
    assert f"recomputed ε ≤ {section['max_epsilon']:.3f} at δ = 1e-05" in line
    assert line.endswith("(target 6)")
