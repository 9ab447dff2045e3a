"""Sign in to a running OpenClaw and fetch the dashboard, with the standard library only.

Used by scripts/smoke-demo.sh (CI's proof of `make demo`), so it runs in a venv built from
requirements/base.txt alone. Exit status 0 only when the signed-in dashboard answers 200 and
shows the organisation's health score.
"""

from __future__ import annotations

import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request


def main(base: str, username: str, password: str) -> int:
    if not base.startswith(("http://127.0.0.1:", "http://localhost:")):
        print(f"smoke: {base!r} is not a local http:// address", file=sys.stderr)
        return 2
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=30) as page:
        form = page.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if not token:
        print("smoke: the login page has no CSRF token", file=sys.stderr)
        return 1
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    ).encode()
    # S310: `base` was checked above to be a local http:// address.
    request = urllib.request.Request(  # noqa: S310
        f"{base}/accounts/login/", data=body, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=30) as signed_in:
        landed = signed_in.geturl()
    with opener.open(f"{base}/", timeout=60) as dashboard:
        status, html = dashboard.status, dashboard.read().decode()
    if status != 200 or "/accounts/login/" in dashboard.geturl():
        print(f"smoke: dashboard answered {status} at {dashboard.geturl()} (after sign-in landed on {landed})",
              file=sys.stderr)
        return 1
    if "Health" not in html or username not in html:
        print("smoke: the dashboard does not show the health score and the signed-in person", file=sys.stderr)
        return 1
    print(f"smoke: signed in as {username}; dashboard 200 ({len(html):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
