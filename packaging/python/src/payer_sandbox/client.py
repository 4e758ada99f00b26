"""A small client for a running payer-sandbox: the control API, headless login, FHIR reads.

Only the standard library is used (``urllib``): the package has no runtime dependency.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
    cast,
)

from .errors import SandboxAPIError, SandboxConnectionError, SandboxError, TokenError
from .types import (
    ClockState,
    Fault,
    FaultTarget,
    Member,
    Plan,
    Report,
    RequestLogEntry,
    Representative,
)

__all__ = [
    "DEFAULT_SCOPE",
    "SANDBOX_APP",
    "SANDBOX_PUBLIC_APP",
    "App",
    "Clock",
    "Faults",
    "Response",
    "SandboxClient",
    "Tokens",
]

DEFAULT_SCOPE = "patient/*.read openid fhirUser offline_access"
"""The scope :meth:`SandboxClient.login` asks for unless told otherwise: every resource type of
the member (SMART v1 syntax), an id_token naming the member, and a refresh token."""

Params = Union[Mapping[str, Any], Sequence[Tuple[str, Any]], None]
"""Query or form parameters: a mapping (a list value repeats the parameter) or a list of pairs."""

ClientAuth = Literal["basic", "post"]
"""How a confidential app authenticates at the token endpoint: HTTP Basic (``client_secret_basic``)
or ``client_id`` and ``client_secret`` in the form body (``client_secret_post``)."""


@dataclass(frozen=True)
class App:
    """An OAuth client (app) of the sandbox.

    ``client_secret`` ``None`` means a public app (it sends PKCE and no secret).
    ``redirect_uri`` ``None`` lets the sandbox use the app's first registered one
    (``http://localhost/callback`` for the built-in apps).
    """

    client_id: str
    client_secret: Optional[str] = field(default=None, repr=False)
    redirect_uri: Optional[str] = None

    @property
    def public(self) -> bool:
        """``True`` for a public app (no client secret)."""
        return self.client_secret is None


SANDBOX_APP = App("sandbox-app", "sandbox-secret")
"""The built-in confidential app (any loopback ``http`` redirect URI)."""

SANDBOX_PUBLIC_APP = App("sandbox-public-app")
"""The built-in public app: PKCE S256 required, no secret."""

_BUILT_IN_APPS = {app.client_id: app for app in (SANDBOX_APP, SANDBOX_PUBLIC_APP)}


def _as_app(client: Union[str, App]) -> App:
    if isinstance(client, App):
        return client
    return _BUILT_IN_APPS.get(client, App(client))


@dataclass(frozen=True)
class Response:
    """An HTTP response, whatever its status (no exception for 4xx/5xx)."""

    status: int
    headers: Dict[str, str]
    """Header names lower-cased; a repeated header's values joined with ``", "``."""
    body: bytes = field(repr=False)
    url: str

    @property
    def ok(self) -> bool:
        """``True`` for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def raise_for_status(self, method: str = "GET") -> Response:
        """Return the response when its status is 2xx, else raise :class:`SandboxAPIError`."""
        if not self.ok:
            raise SandboxAPIError(method, self.url, self.status, _decode_body(self))
        return self


def _decode_body(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


@dataclass(frozen=True)
class Tokens:
    """A token response of the sandbox (RFC 6749 §5.1 with SMART's ``patient``).

    ``app`` is the app the tokens were issued to and ``fhir_base`` the FHIR base URL of the plan
    they belong to, so :meth:`SandboxClient.fhir` and :meth:`SandboxClient.refresh` need nothing
    else. ``raw`` is the whole JSON body.
    """

    access_token: str
    token_type: str
    expires_in: int
    scope: str
    patient: Optional[str]
    refresh_token: Optional[str] = field(repr=False)
    id_token: Optional[str] = field(repr=False)
    app: App
    fhir_base: str
    plan: Optional[str] = None
    nonce: Optional[str] = None
    """The nonce the authorization request sent (the id_token's ``nonce`` must equal it)."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def scopes(self) -> List[str]:
        """The granted scopes, one per item."""
        return self.scope.split()

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value: ``Bearer <access token>``."""
        return f"Bearer {self.access_token}"

    def id_token_claims(self) -> Dict[str, Any]:
        """The id_token's claims, decoded **without verifying the signature**.

        Raises :class:`SandboxError` when the response had no id_token (``openid`` not granted).
        """
        if not self.id_token:
            raise SandboxError("the token response has no id_token (was openid granted?)")
        payload = self.id_token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        if not isinstance(claims, dict):
            raise SandboxError("the id_token's payload is not a JSON object")
        return claims

    @classmethod
    def from_response(
        cls,
        body: Mapping[str, Any],
        *,
        app: App,
        fhir_base: str,
        plan: Optional[str] = None,
        nonce: Optional[str] = None,
    ) -> Tokens:
        """Build from a token response's JSON body."""
        def opt(name: str) -> Optional[str]:
            value = body.get(name)
            return value if isinstance(value, str) else None

        return cls(
            access_token=str(body["access_token"]),
            token_type=str(body.get("token_type", "Bearer")),
            expires_in=int(body.get("expires_in", 0)),
            scope=str(body.get("scope", "")),
            patient=opt("patient"),
            refresh_token=opt("refresh_token"),
            id_token=opt("id_token"),
            app=app,
            fhir_base=fhir_base,
            plan=plan,
            nonce=nonce,
            raw=dict(body),
        )


def _pkce_pair() -> Tuple[str, str]:
    verifier = secrets.token_urlsafe(48)  # 64 characters of the unreserved set
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def _encode_params(params: Params) -> str:
    if not params:
        return ""
    items = params.items() if isinstance(params, Mapping) else params
    pairs: List[Tuple[str, str]] = []
    for key, value in items:
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            pairs.append((str(key), str(v)))
    return urllib.parse.urlencode(pairs)


def _with_query(url: str, params: Params) -> str:
    query = _encode_params(params)
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + query


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand 3xx answers back as they are: a test wants to see them."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(
    # Never through a proxy from the environment: the sandbox is a local test server.
    urllib.request.ProxyHandler({}),
    _NoRedirect(),
)


class Clock:
    """The sandbox clock (``/sandbox/api/clock``): every expiry reads it, so tests move it
    instead of sleeping."""

    def __init__(self, client: SandboxClient) -> None:
        self._client = client

    def get(self) -> ClockState:
        """``{"now", "offset_seconds"}``."""
        return cast(ClockState, self._client.control("GET", "clock"))

    def now(self) -> datetime:
        """The sandbox's current time, timezone-aware (UTC)."""
        stamp = self.get()["now"]
        if stamp.endswith("Z"):
            stamp = stamp[:-1] + "+00:00"
        return datetime.fromisoformat(stamp)

    def advance(self, seconds: Union[int, timedelta]) -> ClockState:
        """Move the clock forward by a whole, non-negative number of seconds.

        With the default lifetimes, 301 seconds expires a fresh code and 3601 an access token.
        """
        if isinstance(seconds, timedelta):
            total = seconds.total_seconds()
            if total != int(total):
                raise ValueError("the sandbox clock moves by whole seconds")
            seconds = int(total)
        return cast(ClockState, self._client.control("POST", "clock/advance", {"seconds": seconds}))

    def reset(self) -> ClockState:
        """Back to the wall clock. This also undoes the data changes made through the control
        API and those of the timeline not yet due on the wall clock."""
        return cast(ClockState, self._client.control("POST", "clock/reset"))


class Faults:
    """Injected failures (``/sandbox/api/faults``): the next matching requests fail."""

    def __init__(self, client: SandboxClient) -> None:
        self._client = client

    def add(
        self,
        target: FaultTarget,
        *,
        status: Optional[int] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
        retry_after: Optional[int] = None,
        delay_ms: Optional[int] = None,
        delay_after_ms: Optional[int] = None,
        id_token: Optional[str] = None,
        path: Optional[str] = None,
        method: Optional[str] = None,
        client_id: Optional[str] = None,
        plan: Optional[str] = None,
        count: Optional[int] = None,
        **other: Any,
    ) -> Fault:
        """Add a fault and return it as the sandbox answered (with its ``id``).

        ``target`` is where it fires (``"fhir"``, ``"token"``, ``"authorize"``, ``"any"``, …);
        ``path``, ``method``, ``client_id`` and ``plan`` narrow it. It needs at least one of
        ``status`` (400-599), ``error`` (an RFC 6749 error code, OAuth targets only),
        ``delay_ms``, ``delay_after_ms`` and ``id_token`` (a flaw: ``wrong_key``, ``wrong_iss``,
        ``wrong_aud``, ``wrong_nonce``, ``expired``, ``alg_none``). ``count`` is how many
        matching requests it fires for (default 1). ``other`` passes any further field of the
        control API as is; the sandbox refuses fields it does not know.
        """
        body: Dict[str, Any] = {"target": target}
        for name, value in (
            ("status", status),
            ("error", error),
            ("error_description", error_description),
            ("retry_after", retry_after),
            ("delay_ms", delay_ms),
            ("delay_after_ms", delay_after_ms),
            ("id_token", id_token),
            ("path", path),
            ("method", method),
            ("client_id", client_id),
            ("plan", plan),
            ("count", count),
        ):
            if value is not None:
                body[name] = value
        body.update(other)
        return cast(Fault, self._client.control("POST", "faults", body))

    def list(self) -> List[Fault]:
        """The active faults, oldest first, with how many firings each has ``remaining``."""
        return cast(List[Fault], self._client.control("GET", "faults"))

    def remove(self, fault_id: int) -> None:
        """Remove one active fault (:class:`SandboxAPIError` 404 if it is not active)."""
        self._client.control("DELETE", f"faults/{int(fault_id)}")

    def clear(self) -> int:
        """Remove every fault; return how many there were."""
        return int(self._client.control("DELETE", "faults")["deleted"])


class SandboxClient:
    """A client for a payer-sandbox server at ``base_url`` (its public URL, e.g. the one of its
    ``payer-sandbox listening on …`` line).

    It drives the control API (``/sandbox/api``), logs members in headlessly and reads the FHIR
    API. Usable against any running sandbox, whoever started it (a container, a shared server);
    :class:`payer_sandbox.Sandbox` is the same client with the process attached. ``timeout`` is
    each HTTP request's, in seconds (an injected ``delay_ms`` can be up to 60 s).
    """

    def __init__(self, base_url: Optional[str] = None, *, timeout: float = 75.0) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.clock = Clock(self)
        """The sandbox clock: ``get()``, ``now()``, ``advance(seconds)``, ``reset()``."""
        self.faults = Faults(self)
        """Injected failures: ``add(target, …)``, ``list()``, ``remove(id)``, ``clear()``."""
        self._plans: Optional[List[Plan]] = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base_url!r})"

    # ---- URLs ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The server's base URL, without a trailing ``/`` (``http://127.0.0.1:PORT``)."""
        if not self._base_url:
            raise SandboxError("the sandbox is not running (no base URL yet)")
        return self._base_url

    @property
    def fhir_base(self) -> str:
        """The default plan's FHIR base URL, ``<base_url>/r4``."""
        return self.base_url + "/r4"

    def url(self, path: str) -> str:
        """An absolute URL: ``path`` relative to the server's root, or already absolute."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # ---- HTTP ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        token: Union[Tokens, str, None] = None,
        params: Params = None,
        headers: Optional[Mapping[str, str]] = None,
        json_body: Any = None,
        form: Params = None,
        data: Optional[bytes] = None,
    ) -> Response:
        """Send one HTTP request and return the :class:`Response`, whatever its status.

        ``path`` is relative to the server's root (or an absolute URL). ``token`` (a
        :class:`Tokens` or an access token string) is sent as ``Authorization: Bearer``.
        ``json_body`` or ``form`` (URL-encoded) or raw ``data`` is the body. Redirects are not
        followed and no proxy is used. Raises :class:`SandboxConnectionError` when the server
        cannot be reached, ``TimeoutError`` when it does not answer within ``timeout``.
        """
        url = _with_query(self.url(path), params)
        all_headers: Dict[str, str] = {"Accept": "application/json"}
        body: Optional[bytes] = data
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        elif form is not None:
            body = _encode_params(form).encode("ascii")
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token is not None:
            access = token.access_token if isinstance(token, Tokens) else token
            all_headers["Authorization"] = f"Bearer {access}"
        if headers:
            all_headers.update(headers)
        req = urllib.request.Request(url, data=body, headers=all_headers, method=method.upper())
        try:
            with _OPENER.open(req, timeout=self.timeout) as resp:
                return Response(resp.status, _headers(resp.headers), resp.read(), url)
        except urllib.error.HTTPError as err:
            with err:
                return Response(err.code, _headers(err.headers), err.read(), url)
        except socket.timeout as err:  # TimeoutError's alias from Python 3.10
            raise TimeoutError(f"{method.upper()} {url}: no answer within {self.timeout:g} s") from err
        except (urllib.error.URLError, ConnectionError) as err:
            reason = err.reason if isinstance(err, urllib.error.URLError) else err
            if isinstance(reason, socket.timeout):
                raise TimeoutError(f"{method.upper()} {url}: no answer within {self.timeout:g} s") from err
            raise SandboxConnectionError(f"{method.upper()} {url}: could not reach the sandbox: {reason}") from err

    def get(
        self,
        path: str,
        *,
        token: Union[Tokens, str, None] = None,
        params: Params = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> Response:
        """``GET`` a path relative to the server's root (``/r4/metadata``,
        ``/.well-known/smart-configuration``) or an absolute URL."""
        return self.request("GET", path, token=token, params=params, headers=headers)

    def fhir(
        self,
        path: str,
        token: Union[Tokens, str, None] = None,
        *,
        params: Params = None,
        method: str = "GET",
        headers: Optional[Mapping[str, str]] = None,
        form: Params = None,
    ) -> Response:
        """Call the FHIR API with a bearer token and return the :class:`Response`.

        ``path`` is relative to the FHIR base of the token's plan (``Patient/jason-argonaut``,
        ``ExplanationOfBenefit?patient=…``; the default plan's ``/r4`` without a :class:`Tokens`),
        or starts with ``/`` (relative to the server's root), or is an absolute URL (a Bundle's
        ``next`` link). The status is not checked: a test looks at it (``.status``,
        ``.json()``), or calls ``.raise_for_status()``.
        """
        if path.startswith(("http://", "https://", "/")):
            target = path
        else:
            base = token.fhir_base if isinstance(token, Tokens) else self.fhir_base
            target = base.rstrip("/") + "/" + path
        return self.request(method, target, token=token, params=params, headers=headers, form=form)

    def control(self, method: str, path: str, body: Any = None, *, params: Params = None) -> Any:
        """Call the control API (``/sandbox/api/<path>``) and return the parsed JSON answer.

        Raises :class:`SandboxAPIError` for an error status. The helpers below use it; it also
        reaches the endpoints they do not wrap (``keys/rotate``, ``outbox``, ``changes``, …).
        """
        response = self.request(
            method,
            "/sandbox/api/" + path.lstrip("/"),
            params=params,
            json_body=body if body is not None else ({} if method.upper() == "POST" else None),
        )
        if not response.ok:
            raise SandboxAPIError(method.upper(), response.url, response.status, _decode_body(response))
        if not response.body:
            return None
        return response.json()

    # ---- the test data ------------------------------------------------------------------------

    @property
    def members(self) -> List[Member]:
        """The test members of the default plan, in data order (``GET /sandbox/api/members``)."""
        return cast(List[Member], self.control("GET", "members"))

    def plan_members(self, plan: str) -> List[Member]:
        """The test members of another plan of the network (an id or an alias)."""
        return cast(List[Member], self.control("GET", "members", params={"plan": plan}))

    @property
    def representatives(self) -> List[Representative]:
        """Who may sign in for whom as a personal representative of a minor."""
        return cast(List[Representative], self.control("GET", "representatives"))

    def plans(self) -> List[Plan]:
        """Every plan of the network, the default first (``GET /sandbox/api/plans``)."""
        plans = cast(List[Plan], self.control("GET", "plans"))
        self._plans = plans
        return plans

    def _plan(self, plan: Optional[str]) -> Plan:
        plans = self._plans if self._plans is not None else self.plans()
        if plan is None:
            return plans[0]
        for p in plans:
            if plan == p["id"] or plan in p.get("aliases", []):
                return p
        raise SandboxError(f"no plan {plan!r} (plans: {', '.join(p['id'] for p in plans)})")

    # ---- OAuth --------------------------------------------------------------------------------

    def login(
        self,
        member_id: str,
        scope: str = DEFAULT_SCOPE,
        client: Union[str, App] = SANDBOX_APP,
        *,
        plan: Optional[str] = None,
        redirect_uri: Optional[str] = None,
        decline: Optional[Iterable[str]] = None,
        representative: Optional[str] = None,
        pkce: bool = True,
        state: Optional[str] = None,
        nonce: Optional[str] = None,
        aud: Optional[str] = None,
        auth: Optional[ClientAuth] = None,
    ) -> Tokens:
        """Log a test member in without a browser and return the app's tokens.

        Two steps, as a real app's login ends: ``POST /sandbox/api/authorize`` (the member signs
        in and allows, headlessly) gives a code, which is exchanged at ``POST /oauth2/token``
        like any app would. The exchange is the app's request: it is in the request log and the
        report; the headless authorize, being the harness's, is not.

        - ``client``: a built-in app's ``client_id`` (``"sandbox-app"``, the default, or
          ``"sandbox-public-app"``), or an :class:`App` with its secret (``None`` for a public
          app). Any other string is taken as a public app's ``client_id``.
        - PKCE S256 is sent unless ``pkce=False``, and a ``state``; a ``nonce`` when ``openid``
          is asked for.
        - ``plan`` signs in to another plan of the network (the member ID is that plan's);
          ``decline`` lists the resource types or granular scopes the member unticks;
          ``representative`` signs in as a personal representative (a RelatedPerson id).
        - ``auth``: ``"basic"`` or ``"post"`` for a confidential app; by default what the plan
          accepts (HTTP Basic where both are).

        Raises :class:`SandboxAPIError` when the authorization is refused (unknown member,
        ``invalid_scope``, …) and :class:`TokenError` when the exchange is.
        """
        app = _as_app(client)
        body: Dict[str, Any] = {"client_id": app.client_id, "member_id": member_id, "scope": scope}
        body["state"] = state if state is not None else secrets.token_urlsafe(12)
        if nonce is None and "openid" in scope.split():
            nonce = secrets.token_urlsafe(12)
        if nonce is not None:
            body["nonce"] = nonce
        redirect = redirect_uri or app.redirect_uri
        if redirect:
            body["redirect_uri"] = redirect
        verifier: Optional[str] = None
        if pkce:
            verifier, challenge = _pkce_pair()
            body["code_challenge"] = challenge
            body["code_challenge_method"] = "S256"
        if plan is not None:
            body["plan"] = plan
        if decline is not None:
            body["decline"] = list(decline)
        if representative is not None:
            body["representative"] = representative
        if aud is not None:
            body["aud"] = aud
        code = self.control("POST", "authorize", body)["code"]

        form: Dict[str, str] = {"grant_type": "authorization_code", "code": code}
        if redirect:
            form["redirect_uri"] = redirect
        if verifier is not None:
            form["code_verifier"] = verifier
        return self._token(form, app, plan=plan, auth=auth, nonce=nonce)

    def refresh(self, tokens: Tokens, *, scope: Optional[str] = None, auth: Optional[ClientAuth] = None) -> Tokens:
        """Use ``tokens.refresh_token`` (``grant_type=refresh_token``) and return the new tokens.

        ``scope`` may narrow the new access token. A public app's refresh token rotates, so use
        the returned :class:`Tokens` from then on. Raises :class:`TokenError` when refused.
        """
        if not tokens.refresh_token:
            raise SandboxError("these tokens have no refresh token")
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        if scope is not None:
            form["scope"] = scope
        return self._token(form, tokens.app, plan=tokens.plan, auth=auth, nonce=None)

    def _token(
        self,
        form: Dict[str, str],
        app: App,
        *,
        plan: Optional[str],
        auth: Optional[ClientAuth],
        nonce: Optional[str],
    ) -> Tokens:
        plan_info: Optional[Plan] = self._plan(plan) if (plan is not None or auth is None) else None
        headers: Dict[str, str] = {}
        if app.client_secret is None:
            form["client_id"] = app.client_id
        else:
            if auth is None:
                accepted = plan_info["profile"].get("client-auth", "both") if plan_info else "both"
                auth = "post" if accepted == "body" else "basic"
            if auth == "basic":
                pair = f"{urllib.parse.quote(app.client_id, safe='')}:{urllib.parse.quote(app.client_secret, safe='')}"
                headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
            elif auth == "post":
                form["client_id"] = app.client_id
                form["client_secret"] = app.client_secret
            else:
                raise ValueError(f"auth must be 'basic' or 'post', not {auth!r}")
        response = self.request("POST", "/oauth2/token", form=form, headers=headers)
        if response.status != 200:
            raise TokenError("POST", response.url, response.status, _decode_body(response))
        fhir_base = self.fhir_base
        if plan is not None and plan_info is not None:
            # The plan's FHIR base as this client reaches the server (a container's public URL
            # may name another host and port than the one mapped to it).
            fhir_base = self.url(urllib.parse.urlsplit(plan_info["fhir_base"]).path)
        return Tokens.from_response(response.json(), app=app, fhir_base=fhir_base, plan=plan, nonce=nonce)

    def register_app(
        self,
        redirect_uris: Sequence[str] = ("http://localhost/callback",),
        *,
        name: Optional[str] = None,
        public: bool = False,
        scope: Optional[str] = None,
        refresh_tokens: Optional[Literal["always", "offline_access"]] = None,
    ) -> App:
        """Register an app (RFC 7591 ``POST /oauth2/register``) and return it with its
        credentials. Its ``redirect_uri`` is the first of ``redirect_uris``.

        A test app of its own gives a test its own ``client_id`` to filter the request log and
        the report by. Registered apps survive :meth:`reset`.
        """
        body: Dict[str, Any] = {
            "redirect_uris": list(redirect_uris),
            "token_endpoint_auth_method": "none" if public else "client_secret_basic",
        }
        if name is not None:
            body["client_name"] = name
        if scope is not None:
            body["scope"] = scope
        if refresh_tokens is not None:
            body["refresh_tokens"] = refresh_tokens
        response = self.request("POST", "/oauth2/register", json_body=body)
        answer = response.raise_for_status("POST").json()
        return App(answer["client_id"], answer.get("client_secret"), list(redirect_uris)[0])

    def expire_grants(self, member_id: str, *, plan: Optional[str] = None) -> int:
        """Revoke every access and refresh token of a member, as if they had revoked access at
        the payer; return how many tokens went."""
        params = {"plan": plan} if plan else None
        answer = self.control("POST", f"members/{urllib.parse.quote(member_id, safe='')}/expire-grants", params=params)
        return int(answer["revoked"])

    # ---- what the client under test did -------------------------------------------------------

    def requests(self, client_id: Optional[str] = None, path: Optional[str] = None) -> List[RequestLogEntry]:
        """The request log, oldest first: every request the sandbox answered except the
        harness's own (``/sandbox/**``), secrets redacted. ``client_id`` keeps one client's,
        ``path`` those whose path starts with it."""
        params = {k: v for k, v in (("client_id", client_id), ("path", path)) if v is not None}
        return cast(List[RequestLogEntry], self.control("GET", "requests", params=params))

    def clear_requests(self) -> int:
        """Empty the request log; return how many entries it had."""
        return int(self.control("DELETE", "requests")["deleted"])

    def report(self, client_id: Optional[str] = None) -> Report:
        """What the client did, set against what CARIN Blue Button and SMART expect of a client:
        counts and ``checks`` (each ``met``, ``not_met`` or ``not_applicable``)."""
        params = {"client_id": client_id} if client_id else None
        return cast(Report, self.control("GET", "report", params=params))

    def report_junit(self, client_id: Optional[str] = None) -> str:
        """The same report as JUnit XML, for a CI's test results."""
        params: Dict[str, str] = {"format": "junit"}
        if client_id:
            params["client_id"] = client_id
        response = self.request("GET", "/sandbox/api/report", params=params)
        return response.raise_for_status().text

    def reset(self) -> None:
        """Forget codes, tokens, faults, the request log, the clock offset and the data changes
        made through the control API (``POST /sandbox/api/reset``). Registered apps stay."""
        self.control("POST", "reset")


def _headers(message: Any) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    if message is None:
        return headers
    for name, value in message.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
