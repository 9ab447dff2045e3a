from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from compliance.reviews import review


class Command(BaseCommand):
    help = "E-mail reviewers of open access reviews about their undecided entries (audit-logged)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = review.send_all_reminders()
        self.stdout.write(f"{sent} reminder e-mail(s) sent.")
