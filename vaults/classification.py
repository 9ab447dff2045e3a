"""Infer a vault's classification from its name and op vault type (docs/findings-rules.md).

The sync calls `classify_vault` only on first sight of a vault; once an admin has set a
classification (`classification_set_by_person`) the sync never overwrites it.
"""

from __future__ import annotations

from vaults.models import Vault

# Checked in this order; the first group with a word contained in the lower-cased name wins.
# op's own vault type PERSONAL is a fact, not an inference, so it is checked before any name.
_NAME_RULES: tuple[tuple[tuple[str, ...], Vault.Classification], ...] = (
    (("prod",), Vault.Classification.PRODUCTION),
    (("staging", "stage", "dev", "test", "qa", "sandbox"), Vault.Classification.NON_PRODUCTION),
    (("private", "personal", "employee"), Vault.Classification.PERSONAL),
    (("shared", "corporate", "everyone"), Vault.Classification.SHARED),
    # Last: a name that also names an environment ("Break Glass Production") keeps that class, whose
    # rotation period applies; an admin makes it emergency on the vault page (vaults/breakglass/).
    (("break glass", "break-glass", "breakglass", "emergency"), Vault.Classification.EMERGENCY),
)


def classify_vault(name: str, vault_type: str) -> Vault.Classification:
    """Classification of a vault named `name` with op vault type `vault_type`."""
    if vault_type.strip().upper() == "PERSONAL":
        return Vault.Classification.PERSONAL
    lowered = name.casefold()
    for words, classification in _NAME_RULES:
        if any(word in lowered for word in words):
            return classification
    return Vault.Classification.UNCLASSIFIED
