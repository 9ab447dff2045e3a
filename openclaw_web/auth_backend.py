"""The signed-in person and their roles in one query per request.

Every page loads the session's person and then, to check a capability, their groups: two round
trips before the view starts. On PostgreSQL the group names come with the person as an array
subquery, so the roles are known from the first query (`roles.remember_roles`). Read afresh on
every request: a role taken away counts from the person's next page, as before.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, User
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef

from openclaw_web.roles import remember_roles


class PersonWithRolesBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        if connection.vendor != "postgresql":  # the embedded SQLite demo: two local reads
            return super().get_user(user_id)
        names = Group.objects.filter(user=OuterRef("pk")).values("name")
        user = User._default_manager.annotate(group_names=ArraySubquery(names)).filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_roles(user, user.group_names)
        return user
