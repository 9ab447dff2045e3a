"""weak (high): an active item with a weak concealed secret.

Rule (docs/findings-rules.md): the rule judges passwords and API secrets only, by field purpose
and type. A concealed field counts when its purpose is PASSWORD, or when it is a CONCEALED field
of an item whose category holds passwords or API secrets (`JUDGED_CATEGORIES`: PASSWORD,
API_CREDENTIAL, DATABASE, SERVER, WIRELESS_ROUTER, EMAIL_ACCOUNT) and its id or label does not
name a PIN, card verification code or one-time code (`CARD_AND_ONE_TIME_FIELDS`). A payment card's CVV and
PIN are short by design and chosen by the bank, OTP seeds are generated: "replace it with a
20-character generated secret" is impossible advice for them, so they are out of this rule, as
are every field of cards, bank accounts and identity documents. It is weak when any of: zxcvbn
score <= 2; op's strength label TERRIBLE or WEAK; length < `min_length` (default 12). Fields
whose value op did not return are judged by op's label alone. One finding per item.

1. One query per policy scope over secret fields joined to active items, the whole condition in
   the WHERE clause.
2. Group the (few) matching field rows by item in Python to list the reasons per field.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from vaults.findings.candidate import (
    Candidate,
    PolicyScope,
    active_items,
    item_candidate,
    only_items,
    quoted,
    short,
)
from vaults.findings.jsonsql import JSONLabelsText
from vaults.findings.models import Finding
from vaults.models import Account, SecretField

WEAK_LABELS = ("TERRIBLE", "WEAK")
JUDGED_CATEGORIES = ("PASSWORD", "API_CREDENTIAL", "DATABASE", "SERVER", "WIRELESS_ROUTER", "EMAIL_ACCOUNT")
# Field ids/labels of secrets that are not passwords (cards' cvv and pin, one-time codes).
CARD_AND_ONE_TIME_FIELDS = (
    r"(^|[^a-z])(cvv|cvc|cvv2|pin|verification|security code|otp|totp|one[- ]time|recovery code)([^a-z]|$)"
)
# zxcvbn scores 0-4; 3 is "safely unguessable: moderate protection from offline attacks".
MAX_WEAK_ZXCVBN = 2


def _reasons(row: Any, min_length: int) -> list[str]:
    reasons = []
    label = (row["strength"] or "").upper()
    if label in WEAK_LABELS:
        reasons.append(f"1Password rates it {label.lower()}")
    if row["value_available"]:
        if row["zxcvbn_score"] is not None and row["zxcvbn_score"] <= MAX_WEAK_ZXCVBN:
            reasons.append(f"zxcvbn score {row['zxcvbn_score']} of 4")
        if row["length"] is not None and row["length"] < min_length:
            reasons.append(f"shorter than {min_length} characters")
    return reasons


def find(
    *, account: Account, scopes: list[PolicyScope], items: frozenset[int] | None = None, **_: Any
) -> list[Candidate]:
    by_item: dict[int, tuple[dict[str, Any], list[str]]] = {}
    for scope in scopes:
        min_length = scope.policy.min_length
        weak_label = Q(strength__iexact=WEAK_LABELS[0]) | Q(strength__iexact=WEAK_LABELS[1])
        weak_value = Q(value_available=True) & (Q(zxcvbn_score__lte=MAX_WEAK_ZXCVBN) | Q(length__lt=min_length))
        judged = Q(purpose__iexact="PASSWORD") | (
            Q(field_type__iexact="CONCEALED")
            & Q(item__category__in=JUDGED_CATEGORIES)
            & ~Q(field_id__iregex=CARD_AND_ONE_TIME_FIELDS)
            & ~Q(label__iregex=CARD_AND_ONE_TIME_FIELDS)
        )
        rows = (
            only_items(SecretField.objects.filter(item__in=active_items(account)), items, "item_id")
            .filter(scope.q("item__vault_id"), judged, weak_label | weak_value)
            .annotate(labels_text=JSONLabelsText("item__field_labels"))
            .values(
                "item_id", "item__op_id", "item__title", "item__category", "labels_text", "item__vault_id",
                "item__vault__name", "item__vault__classification", "label", "strength", "zxcvbn_score", "length",
                "value_available",
            )
            .order_by("item_id", "field_id")
        )  # fmt: skip
        for row in rows:
            item_row: dict[str, Any] = {key.removeprefix("item__"): value for key, value in row.items()}
            item_row["id"] = row["item_id"]
            entry = by_item.setdefault(row["item_id"], (item_row, []))
            reasons = _reasons(row, min_length)
            if reasons:
                entry[1].append(f"“{short(row['label'] or 'unlabelled field', 60)}”: {', '.join(reasons)}")

    candidates = []
    for item_row, field_reasons in by_item.values():
        candidates.append(
            item_candidate(
                Finding.Kind.WEAK,
                Finding.Severity.HIGH,
                item_row,
                title=short(f"Weak secret: {item_row['title']}"),
                explanation=f"{quoted(item_row['title'])} holds a weak secret — {'; '.join(field_reasons)}.",
                recommended_action="Replace it with a generated secret of at least 20 random characters.",
                details={"fields": field_reasons},
            )
        )
    return candidates
