"""Access review pages: list, open, detail with filters, inline decisions (htmx), remind, sign off."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from compliance import audit
from compliance.reports import review_evidence
from compliance.reviews import review as flow
from compliance.reviews.forms import DecideForm, EntryFilterForm, OpenReviewForm, SignOffForm
from compliance.reviews.models import AccessReview, AccessReviewEntry
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.person_labels import name_with_role
from openclaw_web.roles import Capability, requires

PAGE_SIZE = 50


def _get_review(pk: int) -> AccessReview:
    return get_object_or_404(AccessReview.objects.select_related("account", "opened_by", "signed_off_by",
                                                                 "second_approver", "cleanup_plan"), pk=pk)


def _get_entry_for_decision(request: HtmxHttpRequest, pk: int) -> AccessReviewEntry:
    return get_object_or_404(AccessReviewEntry.objects.select_related("review", "reviewer"), pk=pk)


@requires(Capability.VIEW_REVIEWS)
def index(request: HtmxHttpRequest) -> HttpResponse:
    reviews = AccessReview.objects.select_related("account", "opened_by", "signed_off_by").order_by("-opened_at", "-pk")
    rows = [(r, flow.overall(r)) for r in reviews[:100]]
    form = OpenReviewForm() if flow.is_manager(request.user) else None
    return render(request, "reviews/index.html", {"nav": "reviews", "rows": rows, "form": form})


@requires(Capability.MANAGE_REVIEWS)
@require_POST
def open_review(request: HtmxHttpRequest) -> HttpResponse:
    form = OpenReviewForm(request.POST)
    if not form.is_valid():
        reviews = AccessReview.objects.select_related("account", "opened_by", "signed_off_by")[:100]
        context = {"nav": "reviews", "rows": [(r, flow.overall(r)) for r in reviews], "form": form}
        return render(request, "reviews/index.html", context, status=400)
    data = form.cleaned_data
    review = flow.open_review(
        account=data["account"], period=data["period"], opened_by=signed_in_user(request), vaults=list(data["vaults"]),
        classifications=data["classifications"], require_second_approver=data["require_second_approver"],
        title=data["title"],
    )  # fmt: skip
    messages.success(request, f"Review opened with {review.entries.count()} access entries frozen.")
    return redirect("reviews:detail", pk=review.pk)


def _filtered(review: AccessReview, form: EntryFilterForm, user_pk: int | None) -> QuerySet[AccessReviewEntry]:
    entries = review.entries.select_related("reviewer", "decided_by", "cleanup_action").order_by("vault_name", "user_label", "pk")
    data = form.cleaned_data
    reviewer = data.get("reviewer")
    if reviewer == form.REVIEWER_MINE:
        entries = entries.filter(reviewer_id=user_pk)
    elif reviewer == form.REVIEWER_POOL:
        entries = entries.filter(reviewer__isnull=True)
    elif reviewer:
        entries = entries.filter(reviewer_id=int(reviewer))
    state = data.get("state")
    if state == "undecided":
        entries = entries.filter(decision="")
    elif state == "decided":
        entries = entries.exclude(decision="")
    elif state:
        entries = entries.filter(decision=state)
    flagged = data.get("flagged")
    if flagged == "any":
        entries = entries.filter(Q(flag_unused=True) | Q(flag_over_permissioned=True))
    elif flagged == "unused":
        entries = entries.filter(flag_unused=True)
    elif flagged == "over":
        entries = entries.filter(flag_over_permissioned=True)
    if data.get("q"):
        q = data["q"]
        entries = entries.filter(Q(user_label__icontains=q) | Q(user_email__icontains=q) | Q(vault_name__icontains=q))
    return entries


@requires(Capability.VIEW_REVIEWS)
def detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    review = _get_review(pk)
    form = EntryFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    page = Paginator(_filtered(review, form, request.user.pk), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(entry, flow.can_decide(request.user, entry) and not review.is_locked) for entry in page]
    context = {
        "nav": "reviews", "review": review, "form": form, "page": page, "rows": rows,
        "query": request.GET.urlencode(), "progress": flow.progress(review), "overall": flow.overall(review),
        "is_manager": flow.is_manager(request.user), "can_second": flow.can_second_approve(request.user, review),
        "sign_off_form": SignOffForm(),
        # Shown next to the remind button, which only managers of an open review see.
        "without_address": flow.reviewers_without_address(review)
        if flow.is_manager(request.user) and not review.is_locked else [],
    }  # fmt: skip
    template = "reviews/_entries.html" if request.htmx else "reviews/detail.html"
    return render(request, template, context)


@requires(Capability.DECIDE_REVIEWS)
@require_POST
def decide(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _get_entry_for_decision(request, pk)
    form = DecideForm(request.POST, entry=entry)
    error, status = "", 200
    if form.is_valid():
        try:
            entry = flow.decide(entry=entry, user=signed_in_user(request), decision=form.cleaned_data["decision"],
                                justification=form.cleaned_data["justification"],
                                keep_permissions=form.cleaned_data["keep_permissions"])
        except flow.ReviewError as exc:
            error, status = str(exc), exc.status
    else:
        error, status = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items()), 400
    if request.htmx:
        entry = AccessReviewEntry.objects.select_related("review", "reviewer", "decided_by", "cleanup_action").get(pk=entry.pk)
        can = flow.can_decide(request.user, entry) and not entry.review.is_locked
        return render(request, "reviews/_entry_row.html", {"entry": entry, "can": can, "error": error}, status=status)
    if status in (403, 409):
        return HttpResponse(error, status=status)
    if error:
        messages.error(request, error)
    return redirect("reviews:detail", pk=entry.review_id)


@requires(Capability.MANAGE_REVIEWS)
@require_POST
def remind(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    review = _get_review(pk)
    if review.is_locked:
        messages.error(request, "This review is signed off: there is nobody left to remind.")
    else:
        outcome = flow.send_reminders(review=review, actor=signed_in_user(request))
        (messages.success if outcome.sent else messages.warning)(request, str(outcome))
    return redirect("reviews:detail", pk=review.pk)


@requires(Capability.MANAGE_REVIEWS)
@require_POST
def sign_off(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    review = _get_review(pk)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid note.")
    try:
        review = flow.sign_off(review=review, user=signed_in_user(request), note=form.cleaned_data["note"])
    except flow.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Review {review.get_status_display().lower()}.")
    return redirect("reviews:detail", pk=review.pk)


@requires(Capability.SECOND_APPROVE_REVIEWS)
@require_POST
def approve_second(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    review = _get_review(pk)
    try:
        flow.approve_second(review=review, user=signed_in_user(request))
    except flow.ReviewError as exc:
        messages.error(request, str(exc))
        return redirect("reviews:detail", pk=review.pk) if not request.htmx else HttpResponse(str(exc), status=403)
    messages.success(request, "Second approval recorded; the review is signed off.")
    return redirect("reviews:detail", pk=review.pk)


@requires(Capability.VIEW_REPORTS)
def evidence_download(request: HtmxHttpRequest, pk: int, fmt: str) -> FileResponse:
    """A signed-off review's evidence as PDF or Excel, rendered for this download (one review is
    small enough to render in the request) and audit-logged with its SHA-256."""
    review = get_object_or_404(AccessReview.objects.select_related("account", "opened_by", "signed_off_by",
                                                                   "second_approver", "cleanup_plan"),
                               pk=pk, status=AccessReview.Status.SIGNED_OFF)
    export = review_evidence.export(review=review, fmt=fmt, generator=name_with_role(request.user), now=timezone.now())
    audit.record("review.evidence_downloaded", request=request, target=review,
                 details={"format": fmt, "sha256": export.sha256, "size": export.size, "period": review.period})
    response = FileResponse(export.file, as_attachment=True, filename=export.filename, content_type=export.content_type)
    response["X-Content-SHA256"] = export.sha256
    return response
