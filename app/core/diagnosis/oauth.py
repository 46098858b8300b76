"""OAuth 2.0 rows of the one diagnosis table, and the functions that read an authorization server's answer.

The rows are merged into ``table.TABLE`` (see the end of table.py), so there is still one table. Inputs
come from the network (``error``, ``error_description``, an SMTP server's XOAUTH2 challenge): they are
cleaned of control characters and cut short before they reach a Diagnosis; no token ever does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from app.core.catalog import Provider
from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Action, Code, Diagnosis, Entry
from app.core.model import Reply, SmtpSettings

MAX_DETAIL = 300

_SIGN_IN = QT_TRANSLATE_NOOP("Diagnosis", "Sign in again")

OAUTH_ROWS: dict[tuple[Code, str], Entry] = {
    (Code.OAUTH_CONSENT_REQUIRED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The app needs consent before it may sign in"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{provider} answered that nobody has agreed yet to let this app ({client_id}) use the mailbox: {description}",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Ask an administrator of the organisation to grant admin consent for the app: {consent_url}",
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Then sign in again."),
        ),
    ),
    (Code.OAUTH_SIGN_IN_AGAIN, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in has expired or was revoked: sign in again"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{provider} no longer accepts the stored sign-in ({description}). This happens after a password change, a revoked app access or a long time unused.",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Sign in again; the new sign-in replaces the old one in the keyring."),),
    ),
    (Code.OAUTH_DENIED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in was declined"),
        QT_TRANSLATE_NOOP("Diagnosis", "Access for the app was declined on the {provider} page ({description})."),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Sign in again and allow the access the app asks for."),
            QT_TRANSLATE_NOOP("Diagnosis", "If the organisation forbids it, ask the administrator to grant consent."),
        ),
    ),
    (Code.OAUTH_CLIENT_REJECTED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{provider} does not accept this client id"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The client id {client_id} was refused: {description}. It may be mistyped, registered in another tenant, disabled, or missing its secret.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Copy the client id (and tenant) again from the app registration."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Microsoft: turn on 'Allow public client flows' for the app; Google: give the client secret of the Desktop app client.",
            ),
        ),
    ),
    (Code.OAUTH_CLIENT_REJECTED, "disabled"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The app registration is disabled"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "{provider} says the app {client_id} is disabled by an administrator ({description})."
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Ask the administrator to enable the app, or register a new one."),),
    ),
    (Code.OAUTH_REDIRECT_MISMATCH, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The redirect address is not registered for the app"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{provider} refused to send the sign-in back to {redirect_uri}: it is not among the app's redirect addresses ({description}).",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Add {redirect_uri} as a redirect address in the app registration."),),
    ),
    (Code.OAUTH_SCOPE_INVALID, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The app may not ask for mail access"),
        QT_TRANSLATE_NOOP("Diagnosis", "{provider} refused the requested permissions {scopes} ({description})."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Add the mail permissions {scopes} to the app registration."),),
    ),
    (Code.OAUTH_ENDPOINT_FAILED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in server gave an error"),
        QT_TRANSLATE_NOOP("Diagnosis", "{endpoint} answered with an error: {description}"),
        (QT_TRANSLATE_NOOP("Diagnosis", "Try again later; if it persists, check the app registration."),),
    ),
    (Code.OAUTH_ENDPOINT_FAILED, "timeout"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in server did not answer in time"),
        QT_TRANSLATE_NOOP("Diagnosis", "{endpoint} gave no answer within {seconds} s."),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the internet connection, proxy and firewall, then try again."),
            QT_TRANSLATE_NOOP("Diagnosis", "Try again later."),
        ),
    ),
    (Code.OAUTH_ENDPOINT_FAILED, "unreachable"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in server cannot be reached"),
        QT_TRANSLATE_NOOP("Diagnosis", "Connecting to {endpoint} failed: {description}"),
        (QT_TRANSLATE_NOOP("Diagnosis", "Check the internet connection, proxy and firewall, then try again."),),
    ),
    (Code.OAUTH_ENDPOINT_FAILED, "bad_response"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in server sent an answer that is not OAuth"),
        QT_TRANSLATE_NOOP("Diagnosis", "{endpoint} answered with something unusable: {description}"),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "A proxy or captive portal may be answering instead of the provider: check the network."
            ),
        ),
    ),
    (Code.OAUTH_STATE_MISMATCH, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "A sign-in answer that this app did not ask for was refused"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The browser came back with a sign-in that does not belong to this attempt (the state does not match). It was not used: this protects against a forged sign-in.",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Start the sign-in again and finish it in the browser window it opens."),),
    ),
    (Code.OAUTH_TIMED_OUT, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in was not finished in time"),
        QT_TRANSLATE_NOOP("Diagnosis", "No sign-in came back within {seconds} s."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Start the sign-in again and finish it in the browser."),),
    ),
    (Code.OAUTH_TIMED_OUT, "device_code"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in code expired"),
        QT_TRANSLATE_NOOP("Diagnosis", "The code was not entered at {verification_uri} before it expired."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Start the sign-in again and enter the new code promptly."),),
    ),
    (Code.OAUTH_NOT_SIGNED_IN, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "There is no stored sign-in for this account"),
        QT_TRANSLATE_NOOP("Diagnosis", "The keyring holds no OAuth sign-in for the profile {profile}."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Sign in: mailsetup oauth login {profile}"),),
    ),
    (Code.AUTH_FAILED, "oauth_token_rejected"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The mail server did not accept the sign-in token"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} refused the OAuth token for {user} ({mechanism}). The token may be for another account, expired, or lack the mail permission.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check that {user} is the account you signed in with."),
            QT_TRANSLATE_NOOP("Diagnosis", "Sign in again."),
        ),
    ),
    (Code.AUTH_FAILED, "oauth_wrong_scope"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The sign-in token lacks the mail permission"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "{host} refused the token for {user}: it was not issued for mail access ({detail})."
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Sign in again and allow mail access (scope {detail})."),),
    ),
    (Code.AUTH_FAILED, "ms_smtp_auth_disabled"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "SMTP AUTH is turned off for this Microsoft 365 mailbox or tenant"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The sign-in worked, but Exchange Online refuses authenticated SMTP for the mailbox (5.7.139). OAuth needs SMTP AUTH enabled too.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "In the Microsoft 365 admin center, enable 'Authenticated SMTP' for this mailbox (Users > Mail > Manage email apps).",
            ),
        ),
    ),
    (Code.AUTH_FAILED, "ms_basic_auth_unsupported"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Microsoft no longer accepts passwords here: sign in with OAuth"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} answered that Basic authentication is not supported for client submission (5.7.30). Only an OAuth sign-in works for this mailbox.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Choose 'Sign in with Microsoft' (mailsetup oauth login) instead of a password."
            ),
        ),
    ),
}

# Microsoft Entra (AADSTS) codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
_AADSTS: dict[str, tuple[Code, str]] = {
    "50011": (Code.OAUTH_REDIRECT_MISMATCH, ""),
    "65001": (Code.OAUTH_CONSENT_REQUIRED, ""),
    "90094": (Code.OAUTH_CONSENT_REQUIRED, ""),
    "90095": (Code.OAUTH_CONSENT_REQUIRED, ""),
    "65004": (Code.OAUTH_DENIED, ""),
    "7000112": (Code.OAUTH_CLIENT_REJECTED, "disabled"),
    "700016": (Code.OAUTH_CLIENT_REJECTED, ""),
    "7000218": (Code.OAUTH_CLIENT_REJECTED, ""),
    "70011": (Code.OAUTH_SCOPE_INVALID, ""),
    "70000": (Code.OAUTH_SIGN_IN_AGAIN, ""),
    "70008": (Code.OAUTH_SIGN_IN_AGAIN, ""),
    "700082": (Code.OAUTH_SIGN_IN_AGAIN, ""),
    "700084": (Code.OAUTH_SIGN_IN_AGAIN, ""),
    "50173": (Code.OAUTH_SIGN_IN_AGAIN, ""),
}
# RFC 6749 §4.1.2.1 / §5.2 and RFC 8628 §3.5 error codes
_RFC: dict[str, tuple[Code, str]] = {
    "invalid_grant": (Code.OAUTH_SIGN_IN_AGAIN, ""),
    "access_denied": (Code.OAUTH_DENIED, ""),
    "consent_required": (Code.OAUTH_CONSENT_REQUIRED, ""),
    "interaction_required": (Code.OAUTH_CONSENT_REQUIRED, ""),
    "invalid_client": (Code.OAUTH_CLIENT_REJECTED, ""),
    "unauthorized_client": (Code.OAUTH_CLIENT_REJECTED, ""),
    "invalid_scope": (Code.OAUTH_SCOPE_INVALID, ""),
    "redirect_uri_mismatch": (Code.OAUTH_REDIRECT_MISMATCH, ""),
    "expired_token": (Code.OAUTH_TIMED_OUT, "device_code"),
}
_AADSTS_RE = re.compile(r"\bAADSTS(\d{5,8})\b")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def clean(text: Any, limit: int = MAX_DETAIL) -> str:
    """A server-supplied string made safe to show: no control characters, at most ``limit`` characters."""
    value = _CONTROL_RE.sub(" ", str(text or "")).strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def token_error(
    error: str,
    description: str = "",
    *,
    provider: str,
    client_id: str,
    consent_url: str | None = None,
    redirect_uri: str = "",
    scopes: str = "",
    endpoint: str = "",
) -> Diagnosis:
    """Diagnosis for an OAuth error answer (``error`` + ``error_description``), AADSTS codes first."""
    err, desc = clean(error, 80), clean(description)
    found = _AADSTS_RE.search(desc)
    code, variant = _AADSTS.get(found.group(1), (None, "")) if found else (None, "")
    if code is None:
        code, variant = _RFC.get(err, (Code.OAUTH_ENDPOINT_FAILED, ""))
    params = {
        "provider": provider,
        "client_id": client_id,
        "description": desc or err or "-",
        "error": err,
        "redirect_uri": redirect_uri,
        "scopes": scopes,
        "endpoint": endpoint,
        "consent_url": consent_url or "-",
    }
    actions: list[Action] = []
    if code is Code.OAUTH_CONSENT_REQUIRED and consent_url:
        actions.append(
            Action("open_url", QT_TRANSLATE_NOOP("Diagnosis", "Open the admin consent page"), {"url": consent_url})
        )
    if code in (Code.OAUTH_SIGN_IN_AGAIN, Code.OAUTH_CONSENT_REQUIRED, Code.OAUTH_DENIED, Code.OAUTH_TIMED_OUT):
        actions.append(Action("oauth_sign_in", _SIGN_IN))
    return Diagnosis(code, variant, params, server_reply=f"{err}: {desc}" if desc else err, actions=tuple(actions))


def endpoint_failure(variant: str, endpoint: str, description: str = "", seconds: float | None = None) -> Diagnosis:
    """The token/device endpoint timed out ("timeout"), was unreachable, or answered garbage ("bad_response")."""
    params = {"endpoint": clean(endpoint, 200), "description": clean(description) or "-"}
    if seconds is not None:
        params["seconds"] = f"{seconds:g}"
    return Diagnosis(Code.OAUTH_ENDPOINT_FAILED, variant, params, actions=(Action("retry", _SIGN_IN),))


def flow_failure(code: Code, variant: str = "", **params: Any) -> Diagnosis:
    """State mismatch, timeouts, no stored sign-in: failures of the flow itself."""
    return Diagnosis(
        code, variant, {k: clean(v, 200) for k, v in params.items()}, actions=(Action("oauth_sign_in", _SIGN_IN),)
    )


def xoauth2_challenge(message: str) -> dict[str, Any] | None:
    """The JSON error an XOAUTH2 server sends as a 334 challenge (Gmail: status, schemes, scope), or None."""
    try:
        data = json.loads(base64.b64decode(message.strip(), validate=True)[:4096])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


_MS_SMTP_OFF = re.compile(r"5\.7\.139|SmtpClientAuthentication is disabled", re.I)
_MS_BASIC_UNSUPPORTED = re.compile(r"5\.7\.30|Basic authentication is not supported", re.I)


def bearer_auth_reply(
    settings: SmtpSettings, reply: Reply, mechanism: str, provider: Provider | None, challenge: str | None = None
) -> Diagnosis:
    """Diagnosis for a refused XOAUTH2/OAUTHBEARER login; ``challenge`` is the server's 334 payload, if any."""
    p: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "security": settings.security.value,
        "user": settings.username,
        "mechanism": mechanism,
        "reply": reply.message,
        "detail": "-",
        "provider": provider.display_name() if provider else settings.host,
    }
    text = reply.text
    info = xoauth2_challenge(challenge) if challenge else None
    variant = "oauth_token_rejected"
    if _MS_SMTP_OFF.search(text):
        variant = "ms_smtp_auth_disabled"
    elif info is not None and str(info.get("status")) == "400" and info.get("scope"):
        variant, p["detail"] = "oauth_wrong_scope", clean(info.get("scope"), 200)
    if info is not None:
        text = f"{text}\n(XOAUTH2: {clean(json.dumps(info, ensure_ascii=False))})"
    actions = (Action("oauth_sign_in", _SIGN_IN),) if variant != "ms_smtp_auth_disabled" else ()
    return Diagnosis(Code.AUTH_FAILED, variant, p, server_reply=text, actions=actions)


def basic_auth_unsupported(text: str) -> bool:
    """True for Microsoft's ``550 5.7.30 Basic authentication is not supported for Client Submission``."""
    return bool(_MS_BASIC_UNSUPPORTED.search(text))
