"""A member at the sign-in pages, driven the way a browser without JavaScript drives them.

Nothing here knows the pages' URLs beyond the authorize URL an app hands over: it follows
redirects and links, reads each form's action and fields from the HTML, and posts them back
with the member's answers, as a browser would. The one sandbox shortcut is the outbox, which
stands in for the member's mailbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    submit: tuple[str, str] | None = None


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[tuple[str, str]] = []
        self.title = ""
        self.h1 = ""
        self._in: str | None = None
        self._link: str | None = None
        self._link_text = ""

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and "name" in a:
            kind = a.get("type", "text").lower()
            if kind not in ("submit", "button", "image", "reset"):
                self.forms[-1].fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and self.forms and "name" in a:
            self.forms[-1].submit = (a["name"], a.get("value", ""))
        elif tag == "a" and "href" in a:
            self._link, self._link_text = a["href"], ""
        elif tag in ("title", "h1"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links.append((" ".join(self._link_text.split()), self._link))
            self._link = None
        elif tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._link is not None:
            self._link_text += data
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data


@dataclass
class Page:
    url: str
    status: int
    html: str
    forms: list[Form]
    links: list[tuple[str, str]]
    title: str
    h1: str

    def link(self, text: str) -> str:
        for label, href in self.links:
            if label.startswith(text):
                return urljoin(self.url, href)
        raise AssertionError(f"no link {text!r} on {self.url}: {self.links}")

    def form_with(self, name: str, value: str | None = None) -> Form:
        """The form that carries a field `name` (with `value`, when given)."""
        for form in self.forms:
            for n, v in form.fields:
                if n == name and (value is None or v == value):
                    return form
        raise AssertionError(f"no form with {name}={value} on {self.url}")


class MemberBrowser:
    """Follows redirects on the sandbox's own pages and stops at the first redirect that leaves
    them: that one goes to the app's redirect URI, which a test hands to the client library."""

    def __init__(self, sandbox_url: str) -> None:
        self.sandbox_url = sandbox_url.rstrip("/")
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.sandbox_url))
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "payer-sandbox-e2e member browser"
        self.pages: list[Page] = []

    def _follow(self, response: requests.Response) -> Page | str:
        while response.is_redirect:
            target = urljoin(response.url, response.headers["location"])
            if not target.startswith(self.origin + "/"):
                return target  # back to the app
            response = self.http.get(target, allow_redirects=False, timeout=30)
        parser = _PageParser()
        parser.feed(response.text)
        page = Page(
            response.url,
            response.status_code,
            response.text,
            parser.forms,
            parser.links,
            parser.title.strip(),
            " ".join(parser.h1.split()),
        )
        self.pages.append(page)
        return page

    def open(self, url: str) -> Page | str:
        return self._follow(self.http.get(url, allow_redirects=False, timeout=30))

    def submit(self, page: Page, form: Form, answers: dict[str, str]) -> Page | str:
        fields = [(n, answers.get(n, v)) for n, v in form.fields]
        named = {n for n, _ in form.fields}
        fields += [(n, v) for n, v in answers.items() if n not in named]
        if form.submit:
            fields.append(form.submit)
        target = urljoin(page.url, form.action or page.url)
        assert form.method == "post", f"form on {page.url} is {form.method}"
        response = self.http.post(
            target,
            data=fields,
            allow_redirects=False,
            timeout=30,
            headers={"Origin": self.origin, "Referer": page.url},
        )
        return self._follow(response)

    def latest_code(self, email: str) -> str:
        outbox = self.http.get(f"{self.sandbox_url}/sandbox/api/outbox", timeout=30).json()
        codes = [e["code"] for e in outbox if e["to"] == email.lower()]
        assert codes, f"no verification email to {email} in the outbox"
        return codes[-1]

    def approve(
        self, authorize_url: str, member: dict, email: str | None = None, plan_name: str = "Demo Health Plan"
    ) -> str:
        """Creates an account for `member` (an entry of /sandbox/api/members, or of a plan's
        members in /sandbox/api/plans), verifies the emailed code and allows access, on the
        sign-in pages of the plan named `plan_name`. Returns the app's redirect URL with code
        and state."""
        email = email or f"e2e-{uuid.uuid4().hex[:12]}@example.com"
        start = self.open(authorize_url)
        assert isinstance(start, Page), f"authorize redirected straight back: {start}"
        assert start.status == 200, (start.status, start.html[:500])
        assert start.h1 == f"Sign in to {plan_name}", start.h1

        create = self.open(start.link("Create an account"))
        assert isinstance(create, Page) and create.status == 200
        form = create.form_with("member_id")
        verify = self.submit(
            create,
            form,
            {
                "first_name": member["given"],
                "last_name": member["family"],
                "member_id": member["member_id"],
                "postal_code": member["postal_code"],
                "email": email,
            },
        )
        assert isinstance(verify, Page) and verify.status == 200, getattr(verify, "html", verify)
        assert email.lower() in verify.html.lower(), "the verify page names the email"

        consent = self.submit(verify, verify.form_with("code"), {"code": self.latest_code(email)})
        assert isinstance(consent, Page) and consent.status == 200, getattr(consent, "html", consent)
        assert f"{member['given']} {member['family']}" in consent.html

        redirect = self.submit(consent, consent.form_with("decision", "allow"), {})
        assert isinstance(redirect, str), f"consent did not redirect: {redirect}"
        return redirect
