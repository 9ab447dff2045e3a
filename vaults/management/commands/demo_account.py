"""`manage.py demo_account --out PATH`: write the demo organisation as a fake-op account file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vaults.fake_op.account import parse_ts, save
from vaults.fake_op.demo import DEFAULT_SIZES, generate_organisation
from vaults.fake_op.evaluation import generate_evaluation_organisation


class Command(BaseCommand):
    help = "Write a fake 1Password organisation (account file for bin/fake-op) with known findings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="Path of the account file to write.")
        parser.add_argument("--seed", type=int, default=42)
        for size, default in DEFAULT_SIZES.items():
            parser.add_argument(f"--{size}", type=int, default=default)
        parser.add_argument("--now", help="ISO 8601 moment the organisation is generated for (default: now).")
        parser.add_argument("--hostile", action="store_true", help="Add items with hostile titles.")
        parser.add_argument("--guests", type=int, default=2, help="People who are guests (type GUEST), not members.")
        parser.add_argument(
            "--evaluation",
            action="store_true",
            help="Write the labelled evaluation organisation instead (2,000 items, 200 people, 40 vaults, "
            "12 groups; planted true cases and decoys per finding kind under `labels`). Size options are ignored.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_ts(options["now"]) if options["now"] else datetime.now(UTC).replace(microsecond=0)
        if options["evaluation"]:
            self._write_evaluation(Path(options["out"]), seed=options["seed"], now=now)
            return
        data = generate_organisation(
            seed=options["seed"],
            vaults=options["vaults"],
            items=options["items"],
            users=options["users"],
            groups=options["groups"],
            now=now,
            hostile=options["hostile"],
            guests=options["guests"],
        )
        out = Path(options["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        save(out, data)
        counts = {kind: len(ids) for kind, ids in data["planted"].items()}
        self.stdout.write(
            f"Wrote {out}: {len(data['vaults'])} vaults, {len(data['items'])} items, "
            f"{len(data['users'])} users, {len(data['groups'])} groups; planted {json.dumps(counts)}"
        )
        self.stdout.write("The service-account token is tokens[0].token in the file (a fake, for bin/fake-op).")

    def _write_evaluation(self, out: Path, *, seed: int, now: datetime) -> None:
        data = generate_evaluation_organisation(seed=seed, now=now)
        out.parent.mkdir(parents=True, exist_ok=True)
        save(out, data)
        labels = data["labels"]
        counts = {kind: len(subjects) for kind, subjects in labels["expected"].items()}
        self.stdout.write(
            f"Wrote {out}: evaluation organisation, {len(data['vaults'])} vaults, {len(data['items'])} items, "
            f"{len(data['users'])} users; expected per kind {json.dumps(counts)}; {len(labels['decoys'])} decoys"
        )
