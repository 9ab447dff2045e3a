"""Shared fixtures: one persona per role, and a client signed in as each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from openclaw_web.roles import Role

REPO_ROOT = Path(__file__).resolve().parent.parent
OP_SAMPLES = REPO_ROOT.parent / "shared" / "op-samples"


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, *roles: Role) -> User:
        user = User.objects.create_user(username=username, password="correct horse battery staple 9")
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        return user

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("ada_admin", Role.ADMIN)


@pytest.fixture
def team_lead(make_user: Callable[..., User]) -> User:
    return make_user("tom_lead", Role.TEAM_LEAD)


@pytest.fixture
def approver(make_user: Callable[..., User]) -> User:
    return make_user("april_approver", Role.APPROVER)


@pytest.fixture
def second_approver(make_user: Callable[..., User]) -> User:
    return make_user("bob_approver", Role.APPROVER)


@pytest.fixture
def compliance_officer(make_user: Callable[..., User]) -> User:
    return make_user("carol_compliance", Role.COMPLIANCE_OFFICER)


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("aud_auditor", Role.AUDITOR)


@pytest.fixture
def viewer(make_user: Callable[..., User]) -> User:
    return make_user("vic_viewer", Role.VIEWER)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
