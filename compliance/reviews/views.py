"""Access review pages: list, inbox, open, detail with filters and grouping, inline and bulk
decisions (htmx), delegation, remind, sign off."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Max, Q, QuerySet, Value, When, Window
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from compliance import audit
from compliance.reports import review_evidence
from compliance.reviews import delegation, history
from compliance.reviews import inbox as inbox_counts
from compliance.reviews import review as flow
from compliance.reviews.forms import BulkForm, DecideForm, EntryFilterForm, OpenReviewForm, SignOffForm
from compliance.reviews.models import AccessReview, AccessReviewEntry
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.person_labels import name_with_role
from openclaw_web.roles import Capability, has_capability, requires

# 100 compact rows are ~250 kB of HTML (test_review_volume: a 1,000-entry review stays far below
# 1 MB); "all N matching this filter" decides beyond the page.
PAGE_SIZE = 100
FILTER_FIELDS = ("q", "reviewer", "state", "flagged", "group")


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
    waiting = sum(row.total for row in inbox_counts.open_decisions(signed_in_user(request)))
    context = {"nav": "reviews", "rows": rows, "form": form, "waiting": waiting,
               "second_for_production": flow.second_approver_for_production()}
    return render(request, "reviews/index.html", context)


@requires(Capability.DECIDE_REVIEWS)
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    """My open decisions: per open review, what is routed to me (and the pool, for managers)."""
    rows = inbox_counts.open_decisions(signed_in_user(request))
    context = {"nav": "reviews", "rows": rows, "total": sum(r.total for r in rows),
               "is_manager": flow.is_manager(request.user)}
    return render(request, "reviews/inbox.html", context)


@requires(Capability.MANAGE_REVIEWS)
@require_POST
def open_review(request: HtmxHttpRequest) -> HttpResponse:
    form = OpenReviewForm(request.POST)
    if not form.is_valid():
        reviews = AccessReview.objects.select_related("account", "opened_by", "signed_off_by")[:100]
        context = {"nav": "reviews", "rows": [(r, flow.overall(r)) for r in reviews], "form": form,
                   "second_for_production": flow.second_approver_for_production()}
        return render(request, "reviews/index.html", context, status=400)
    data = form.cleaned_data
    review = flow.open_review(
        account=data["account"], period=data["period"], opened_by=signed_in_user(request), vaults=list(data["vaults"]),
        classifications=data["classifications"],
        # Unticked: automatic (on when the scope covers production vaults, by setting).
        require_second_approver=True if data["require_second_approver"] else None,
        title=data["title"],
    )  # fmt: skip
    messages.success(request, f"Review opened with {review.entries.count()} access entries frozen.")
    return redirect("reviews:detail", pk=review.pk)


_RISK = Case(When(flag_over_permissioned=True, then=Value(2)), When(flag_unused=True, then=Value(1)), default=Value(0),
             output_field=IntegerField())  # fmt: skip


def _ordered(entries: QuerySet[AccessReviewEntry], group: str) -> QuerySet[AccessReviewEntry]:
    """Grouped by vault (default) or by person; groups holding the riskiest entries first, and
    inside a group over-permissioned, then unused, then the rest."""
    keys = ["user_label", "user_email"] if group == "person" else ["vault_name", "vault_id"]
    others = ["vault_name"] if group == "person" else ["user_label"]
    group_risk = Window(Max(_RISK), partition_by=[F(k) for k in keys])
    return entries.annotate(risk=_RISK, group_risk=group_risk).order_by("-group_risk", *keys, "-risk", *others, "pk")


def _filtered(review: AccessReview, form: EntryFilterForm, user_pk: int | None) -> QuerySet[AccessReviewEntry]:
    entries = review.entries.all()
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
    elif flagged == "none":
        entries = entries.filter(flag_unused=False, flag_over_permissioned=False)
    elif flagged == "unused":
        entries = entries.filter(flag_unused=True)
    elif flagged == "over":
        entries = entries.filter(flag_over_permissioned=True)
    if data.get("q"):
        q = data["q"]
        entries = entries.filter(Q(user_label__icontains=q) | Q(user_email__icontains=q) | Q(vault_name__icontains=q))
    return entries


def _filter_query(form: EntryFilterForm) -> str:
    """The filter as a query string (no page): pagination and the bulk form keep it."""
    from urllib.parse import urlencode

    return urlencode({k: form.cleaned_data[k] for k in FILTER_FIELDS if form.cleaned_data.get(k)})


def _entries_context(
    request: HtmxHttpRequest, review: AccessReview, form: EntryFilterForm, page_number: str | int | None
) -> dict[str, Any]:
    """What `_entries.html` needs: the page of rows (entry, may decide, previous decision), the
    filter, and who entries can be handed to."""
    filtered = _filtered(review, form, request.user.pk)
    ordered = _ordered(filtered.select_related("reviewer", "decided_by", "cleanup_action"), form.cleaned_data.get("group") or "")
    page = Paginator(ordered, PAGE_SIZE).get_page(page_number)
    entries = list(page)
    previous = history.previous_decisions(review, entries)
    open_ = not review.is_locked
    rows = [(e, open_ and flow.can_decide(request.user, e), previous.get(e.pk)) for e in entries]
    may_decide = open_ and has_capability(request.user, Capability.DECIDE_REVIEWS)
    return {
        "review": review, "form": form, "page": page, "rows": rows, "query": _filter_query(form),
        "group": form.cleaned_data.get("group") or "", "may_decide": may_decide,
        "delegates": list(delegation.eligible_reviewers()) if may_decide else [],
    }  # fmt: skip


@requires(Capability.VIEW_REVIEWS)
def detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    review = _get_review(pk)
    form = EntryFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    context = {
        **_entries_context(request, review, form, request.GET.get("page")),
        "nav": "reviews", "progress": flow.progress(review), "overall": flow.overall(review),
        "is_manager": flow.is_manager(request.user), "can_second": flow.can_second_approve(request.user, review),
        "sign_off_form": SignOffForm(),
        # Shown next to the remind button, which only managers of an open review see.
        "without_address": flow.reviewers_without_address(review)
        if flow.is_manager(request.user) and not review.is_locked else [],
    }  # fmt: skip
    template = "reviews/_entries.html" if request.htmx else "reviews/detail.html"
    return render(request, template, context)


def _progress_context(review: AccessReview) -> dict[str, Any]:
    return {"progress": flow.progress(review), "overall": flow.overall(review), "oob_progress": True}


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
        error, status = " ".join(" ".join(map(str, v)) for v in form.errors.values()), 422
    if request.htmx:
        entry = AccessReviewEntry.objects.select_related("review", "reviewer", "decided_by", "cleanup_action").get(pk=entry.pk)
        can = flow.can_decide(request.user, entry) and not entry.review.is_locked
        context = {
            "entry": entry, "can": can, "error": error, "pending": request.POST.get("decision", "")[:10],
            "prev": history.previous_decisions(entry.review, [entry]).get(entry.pk),
            "group": "person" if request.POST.get("group") == "person" else "", "review": entry.review,
            "justification_draft": request.POST.get("justification", "")[:4000] if error else "",
            **_progress_context(entry.review),
        }  # fmt: skip
        return render(request, "reviews/_entry_row.html", context, status=status)
    if status in (403, 409):
        return HttpResponse(error, status=status)
    if error:
        messages.error(request, error)
    return redirect("reviews:detail", pk=entry.review_id)


@requires(Capability.DECIDE_REVIEWS)
@require_POST
def bulk(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Keep, revoke or delegate the ticked entries, or every entry matching the filter sent along."""
    review = _get_review(pk)
    filters, form = EntryFilterForm(request.POST), BulkForm(request.POST)
    if not filters.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    message, error, status = "", "", 200
    if form.is_valid():
        data = form.cleaned_data
        chosen = _filtered(review, filters, request.user.pk)
        if not data["all_matching"]:
            chosen = chosen.filter(pk__in=data["entries"])
        try:
            message = _apply_bulk(request, review, chosen, data)
        except flow.ReviewError as exc:
            error, status = str(exc), exc.status
    else:
        error, status = " ".join(" ".join(map(str, v)) for v in form.errors.values()), 422
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or message)
        query = _filter_query(filters)
        return redirect(reverse("reviews:detail", args=[review.pk]) + (f"?{query}" if query else ""))
    review = _get_review(pk)
    context = {**_entries_context(request, review, filters, 1), **_progress_context(review),
               "bulk_message": message, "bulk_error": error}
    return render(request, "reviews/_entries.html", context, status=status)


def _apply_bulk(
    request: HtmxHttpRequest, review: AccessReview, chosen: QuerySet[AccessReviewEntry], data: dict[str, Any]
) -> str:
    user = signed_in_user(request)
    if data["action"] == "delegate":
        to_user = delegation.eligible_reviewers().filter(pk=data["to_user"]).first()
        if to_user is None:
            raise flow.ReviewError("Choose a reviewer from the list: that person does not decide access reviews.")
        moved = delegation.reassign(review=review, entries=chosen, user=user, to_user=to_user)
        return f"Handed to {to_user.get_full_name() or to_user.get_username()}: {moved}."
    outcome = flow.decide_many(review=review, entries=chosen, user=user, decision=data["action"],
                               justification=data["justification"])
    return f"Decided “{dict(BulkForm.ACTIONS)[data['action']]}”: {outcome}."


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
