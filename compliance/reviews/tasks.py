"""Celery entry points for access reviews (beat-able)."""

from __future__ import annotations

from celery import shared_task

from compliance.reviews import review


@shared_task(name="compliance.reviews.tasks.send_review_reminders_task")
def send_review_reminders_task() -> int:
    """E-mail reviewers of every open review that still has undecided entries."""
    return review.send_all_reminders()
