"""Precision and recall of each finding rule against a labelled organisation.

The labels come from `vaults/fake_op/evaluation.py` (`labels` in the account file): for every kind
the subjects a rule must report, and decoys that look like the problem and must not be reported
as it. `observed_findings` reads what the engine stored for an account, as subjects of the same
shape; `score` compares the two per kind. The access anomalies of the compliance reports are not
findings; their observations come from `compliance/reports/anomaly_observations.py` and are scored
by the same `score`.

Subjects are compared as strings: an item or user op id, a person's email, an item title, or for
group kinds (duplicate, reused secret, shared across environments) the sorted op ids of the
items one finding names, joined with "+".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vaults.findings.models import Finding
from vaults.models import Account


def subject_key(subject: Any) -> str:
    """One comparable string per subject; a group is its sorted member ids."""
    if isinstance(subject, (list, tuple, set, frozenset)):
        return "+".join(sorted(str(s) for s in subject))
    return str(subject)


@dataclass
class KindScore:
    kind: str
    planted: int
    decoys: int
    true_positives: int
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)
    decoys_fired: list[str] = field(default_factory=list)  # reasons of decoys reported as this kind

    @property
    def precision(self) -> float:
        reported = self.true_positives + len(self.false_positives)
        return self.true_positives / reported if reported else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 1.0


def observed_findings(account: Account) -> dict[str, set[str]]:
    """Open or accepted findings of `account` as subject keys per kind (three queries)."""
    present = Finding.objects.filter(account=account).exclude(status=Finding.Status.RESOLVED)
    observed: dict[str, set[str]] = {str(kind): set() for kind in Finding.Kind}
    groups: dict[int, set[str]] = {}
    through = Finding.related_items.through
    for finding_id, op_id in through.objects.filter(finding__in=present).values_list("finding_id", "item__op_id"):
        groups.setdefault(finding_id, set()).add(op_id)
    for pk, kind, item_op_id, user_op_id in present.values_list("pk", "kind", "item__op_id", "op_user__op_id"):
        if pk in groups:
            observed[kind].add(subject_key(groups[pk]))
        elif item_op_id:
            observed[kind].add(item_op_id)
        elif user_op_id:
            observed[kind].add(user_op_id)
    return observed


def score(labels: Mapping[str, Any], observed: Mapping[str, Iterable[str]], kinds: Iterable[str]) -> list[KindScore]:
    """Per kind: planted, decoys, true positives, false positives, false negatives and which
    decoys fired. A decoy of a group kind fires when a reported group is the decoy's group or
    lies inside it (some of its items reported as one group)."""
    scores = []
    for kind in kinds:
        expected = {subject_key(s) for s in labels["expected"].get(kind, [])}
        seen = set(observed.get(kind, ()))
        decoys = [d for d in labels["decoys"] if d["kind"] == kind]
        fired = []
        for decoy in decoys:
            members = {str(s) for s in decoy["subject"]} if isinstance(decoy["subject"], list) else None
            if members is None:
                hit = subject_key(decoy["subject"]) in seen
            else:
                hit = any(set(reported.split("+")) <= members for reported in seen)
            if hit:
                fired.append(decoy["reason"])
        scores.append(
            KindScore(
                kind=kind,
                planted=len(expected),
                decoys=len(decoys),
                true_positives=len(expected & seen),
                false_positives=sorted(seen - expected),
                false_negatives=sorted(expected - seen),
                decoys_fired=fired,
            )
        )
    return scores


HEADER = ("kind", "planted", "decoys", "TP", "FP", "FN", "precision", "recall")


def table(scores: Iterable[KindScore]) -> str:
    """The scores as a Markdown table (README and `make bench` print the same)."""
    rows = [HEADER, tuple("---" for _ in HEADER)]
    for s in scores:
        rows.append(
            (s.kind, str(s.planted), str(s.decoys), str(s.true_positives), str(len(s.false_positives)),
             str(len(s.false_negatives)), f"{s.precision:.3f}", f"{s.recall:.3f}")
        )  # fmt: skip
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
