"""When an item's secret counts as rotated: the one definition behind break-glass follow-up
(vaults/breakglass/record.py), rotation actions (vaults/cleanup/rotation.py) and, through them,
offboarding completion (vaults/offboarding/completion.py) and the compliance reports.

A secret is rotated after a moment when EVERY secret value the item held then has been replaced,
as a sync proves it: a new fingerprint of the field (`SecretField`: concealed and SSH-key fields,
vaults/op/parse.py). Only secret fields count, so a new title, URL or tag is never a rotation.
Every field must change because whoever read the item could copy all of them: with a password and
a recovery code, replacing the password alone leaves a working secret in their hands.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping

from vaults.models import SecretField


def rotated_at(
    item_id: int,
    *,
    since: datetime.datetime | None = None,
    seen: Mapping[str, str] | None = None,
    digest: Callable[[str], str] = str,
    required: Iterable[str] = (),
) -> datetime.datetime | None:
    """When the last of the item's secrets seen at a moment was replaced; None while one was not.

    The moment is given by what is known about it:
    1. `seen` (field id -> `digest(fingerprint)` recorded then, as a rotation action records it at
       proposal): each of those fields must still have a fingerprint, a different one. A field
       removed since, or whose value op no longer returns, proves nothing. Fields added since
       were never seen and do not count.
    2. Otherwise `since`: each field with a fingerprint must have changed (`changed_at`, set by
       the sync that saw the new fingerprint) strictly after it; a change at or before it was
       seen by whoever used the item then. A field first seen after it counts as changed.
       `required` names the fields known at the moment (break-glass records them with the
       event): one removed since, or whose value op no longer returns, proves nothing.
    An item without any fingerprinted field has nothing to prove a rotation with: None.
    """
    rows = SecretField.objects.filter(item_id=item_id).values_list("field_id", "fingerprint", "changed_at")
    fields = {field_id: (fingerprint, changed_at) for field_id, fingerprint, changed_at in rows if fingerprint}
    if seen is not None:
        current = {field_id: fields.get(field_id) for field_id in seen}
        if any(now is None or digest(now[0]) == seen[field_id] for field_id, now in current.items()):
            return None
        times = [now[1] for now in current.values() if now is not None]
    elif since is not None:
        if any(field_id not in fields for field_id in required):
            return None
        times = [changed_at for _, changed_at in fields.values()]
        if any(t is None or t <= since for t in times):
            return None
    else:
        raise ValueError("rotated_at needs `seen` or `since`")
    known = [t for t in times if t is not None]
    if not known or len(known) < len(times):
        return None
    return max(known)
