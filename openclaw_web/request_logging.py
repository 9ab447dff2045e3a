"""One log line per refused request.

Django logs a PermissionDenied on `django.request` with the exception attached, so every 403 (a
viewer opening the audit log, an expired session posting a form) printed a full traceback that
says nothing a reader needs: the refusal is expected behaviour. This filter rewrites any 403
record to "403 Forbidden: <path> (<user>, <reason>)" and drops the traceback; 5xx records, which
do need theirs, pass untouched.
"""

from __future__ import annotations

import logging


class OneLineForbidden(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        request = getattr(record, "request", None)
        exception = record.exc_info[1] if record.exc_info else None
        record.msg = "403 Forbidden: %s (%s, %s)"
        record.args = (getattr(request, "path", "?"), _user_label(request), str(exception or "") or "refused by the view")
        record.exc_info, record.exc_text = None, None
        return True


def _user_label(request: object) -> str:
    user = getattr(request, "user", None)
    return user.get_username() if user is not None and user.is_authenticated else "anonymous"
