"""Credentials taken out of item URLs before they leave `vaults/op/` (issue #14 item 3).

People paste URLs such as `https://admin:PASSWORD@db.example.com/?token=TOKEN` into 1Password
items. The URL is metadata we keep (host and path tell a reviewer what the item is for), but the
userinfo and secret-looking query values are credentials, so `redact_url`:

1. splits the text with the regular expression of RFC 3986 Appendix B, which matches every
   string (unlike `urlsplit`, which raises on some hosts: a hostile URL must not make redaction
   fail open);
2. drops the userinfo (`user:password@` and a user alone) and keeps scheme, host, port and path;
   a URL typed without a scheme (`admin:pw@db.example.com/x`) is handled the same way;
3. replaces the value of every query and fragment parameter whose key looks secret (`token`,
   `apiKey`, `X-Amz-Signature`, `sig`, `code`, `access_token`, ...) with `REDACTED`, leaving
   every other parameter byte for byte as it was (`?page=2`, `?ref=docs`).

Not covered, on purpose: secrets inside a path segment (`/services/T0/B0/XXXX` webhooks) cannot
be told from ordinary paths without guessing, and keeping the path is what makes a URL useful.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

REDACTED = "REDACTED"

# RFC 3986, Appendix B: groups 2 scheme, 4 authority, 5 path, 7 query, 9 fragment.
_URI = re.compile(r"^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$", re.DOTALL)

# Schemes whose "user@host" part is the address itself, not a credential: left alone when the
# URL has no `//` authority.
_OPAQUE_SCHEMES = frozenset(
    {"mailto", "tel", "sms", "urn", "data", "javascript", "about", "xmpp", "sip", "sips", "news"}
)

# A key is secret when one of its words (split on punctuation and camelCase) is one of these...
_SECRET_WORDS = frozenset({
    "token", "secret", "password", "passwd", "pwd", "pass", "passphrase", "sig", "signature", "auth",
    "apikey", "key", "code", "credential", "credentials", "session", "sessionid", "jwt", "otp", "sas",
    "bearer", "private", "privatekey", "accesskey", "secretkey",
})  # fmt: skip
# ... or when the whole key, squashed to lower-case letters and digits, ends with one of these
# (`accesstoken`, `xapikey`, `clientsecret`: keys written as one word).
_SECRET_ENDINGS = ("token", "secret", "password", "passwd", "signature", "apikey", "accesskey", "secretkey",
                   "privatekey", "sessionid", "credential", "credentials")  # fmt: skip

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def is_secret_key(raw_key: str) -> bool:
    """True for a query/fragment key that names a credential, however it is cased or encoded."""
    key = unquote_plus(raw_key).strip()
    words = {w.lower() for w in _NON_ALNUM.split(_CAMEL_BOUNDARY.sub(" ", key)) if w}
    if words & _SECRET_WORDS:
        return True
    squashed = _NON_ALNUM.sub("", key).lower()
    return squashed in _SECRET_WORDS or squashed.endswith(_SECRET_ENDINGS)


def _redact_parameters(text: str) -> str:
    """`a=1&token=x` → `a=1&token=REDACTED`; pieces without `=` and other keys are kept as typed."""
    pieces = []
    for piece in text.split("&"):
        key, equals, _value = piece.partition("=")
        pieces.append(f"{key}={REDACTED}" if equals and is_secret_key(key) else piece)
    return "&".join(pieces)


def _without_userinfo(authority: str) -> str:
    # The userinfo ends at the *last* "@": a password may itself hold an unencoded "@".
    return authority.rpartition("@")[2]


def redact_url(href: str) -> str:
    """`href` without userinfo and with secret-looking parameter values replaced by `REDACTED`.

    A URL with nothing to redact is returned unchanged (same string), so unchanged data does not
    look changed to the sync.
    """
    match = _URI.match(href)
    if match is None:  # unreachable: every group is optional; kept so a regex edit fails closed
        return REDACTED
    scheme, authority, path, query, fragment = match.group(2, 4, 5, 7, 9)
    if authority is None and (scheme is None or scheme.lower() not in _OPAQUE_SCHEMES):
        # No `//`: "admin:pw@db.example.com/x" parses as scheme "admin"; "alice@db" as a path.
        # The text before the first "/" is then an authority typed without its scheme.
        head, sep, rest = href.partition("/")
        if "@" in head and not any(c in head for c in "?#"):
            return redact_url(f"{_without_userinfo(head)}{sep}{rest}")
    parts = []
    if scheme is not None:
        parts.append(f"{scheme}:")
    if authority is not None:
        parts.append(f"//{_without_userinfo(authority)}")
    parts.append(path)
    if query is not None:
        parts.append(f"?{_redact_parameters(query)}")
    if fragment is not None:
        # Implicit-flow OAuth puts `access_token=` in the fragment; `#section-2` has no "=".
        parts.append(f"#{_redact_parameters(fragment) if '=' in fragment else fragment}")
    redacted = "".join(parts)
    return href if redacted == href else redacted


def has_credentials(href: str) -> bool:
    """True when `redact_url` would change `href` (used to refuse such URLs in forms)."""
    return redact_url(href) != href
