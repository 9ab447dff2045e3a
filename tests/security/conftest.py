"""The security suite reuses the fake organisation of the vaults tests."""

from tests.vaults.conftest import fake_org, org_sizes  # noqa: F401  (fixtures)
