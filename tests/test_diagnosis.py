"""The diagnosis table: complete, well-formed, translatable; provider hints."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from app.core.catalog.model import ErrorHint, Provider, ProviderKind
from app.core.diagnosis import classify as rc
from app.core.diagnosis.model import Code, Diagnosis, entry_for
from app.core.diagnosis.table import TABLE
from app.core.model.settings import Security, SmtpSettings
from app.core.smtp.connection import Reply

KNOWN_PARAMS = {
    # the reply decoder (app.core.diagnosis.explain)
    "reply_code",
    "status",
    "status_meaning",
    # OAuth sign-in (app.core.diagnosis.oauth)
    "client_id",
    "description",
    "consent_url",
    "redirect_uri",
    "scopes",
    "endpoint",
    "verification_uri",
    "profile",
    "host",
    "port",
    "security",
    "address",
    "addresses",
    "accepted",
    "seconds",
    "detail",
    "reply",
    "mechanism",
    "user",
    "provider",
    "subject",
    "issuer",
    "not_before",
    "not_after",
    "sha256",
    "sans",
    "wanted",
    "offered",
    "stage",
    "field",
    "message",
    "reason",
    "proxy",
    "proxy_host",
    "proxy_port",
    "target",
    # the incoming side (app.core.diagnosis.incoming)
    "protocol_name",
    "ssl_port",
    "plain_port",
    "found",
    "folder",
    "verdicts",
}

# every (code, variant) the engine (and the proxy module) can produce
PRODUCED = {
    (Code.DNS_FAILED, ""),
    (Code.DNS_FAILED, "temporary"),
    (Code.DNS_FAILED, "timeout"),
    (Code.NETWORK_UNREACHABLE, ""),
    (Code.CONNECT_REFUSED, ""),
    (Code.CONNECT_TIMEOUT, ""),
    (Code.CONNECT_TIMEOUT, "port25"),
    (Code.GREETING_TIMEOUT, ""),
    (Code.GREETING_TIMEOUT, "expects_tls"),
    (Code.GREETING_TIMEOUT, "slow"),
    (Code.TLS_HANDSHAKE_FAILED, ""),
    (Code.TLS_HANDSHAKE_FAILED, "plaintext_port"),
    (Code.TLS_HANDSHAKE_FAILED, "version"),
    (Code.TLS_HANDSHAKE_FAILED, "timeout"),
    (Code.CERT_UNTRUSTED, ""),
    (Code.CERT_UNTRUSTED, "self_signed"),
    (Code.CERT_UNTRUSTED, "pin_mismatch"),
    (Code.CERT_HOSTNAME_MISMATCH, ""),
    (Code.CERT_EXPIRED, ""),
    (Code.CERT_EXPIRED, "not_yet_valid"),
    (Code.STARTTLS_UNSUPPORTED, ""),
    (Code.STARTTLS_UNSUPPORTED, "refused"),
    (Code.AUTH_FAILED, ""),
    (Code.AUTH_FAILED, "app_password"),
    (Code.AUTH_FAILED, "api_key"),
    (Code.AUTH_FAILED, "ms_basic_auth_disabled"),
    (Code.AUTH_FAILED, "web_login"),
    (Code.AUTH_MECHANISM_UNSUPPORTED, ""),
    (Code.AUTH_MECHANISM_UNSUPPORTED, "none_offered"),
    (Code.AUTH_MECHANISM_UNSUPPORTED, "refused"),
    (Code.AUTH_REQUIRES_TLS, ""),
    (Code.AUTH_REQUIRES_TLS, "plain_refused"),
    (Code.APP_PASSWORD_REQUIRED, ""),
    (Code.SENDER_REJECTED, ""),
    (Code.SENDER_REJECTED, "not_owner"),
    (Code.SENDER_REJECTED, "temporary"),
    (Code.SENDER_REJECTED, "needs_smtputf8"),
    (Code.SENDER_REJECTED, "auth_required"),
    (Code.SENDER_REJECTED, "needs_tls"),
    (Code.RECIPIENT_REJECTED, ""),
    (Code.RECIPIENT_REJECTED, "partial"),
    (Code.RECIPIENT_REJECTED, "relay"),
    (Code.RECIPIENT_REJECTED, "needs_smtputf8"),
    (Code.MESSAGE_REJECTED, ""),
    (Code.MESSAGE_REJECTED, "too_big"),
    (Code.MESSAGE_REJECTED, "policy"),
    (Code.PROTOCOL_ERROR, ""),
    (Code.PROTOCOL_ERROR, "garbage"),
    (Code.PROTOCOL_ERROR, "too_long"),
    (Code.PROTOCOL_ERROR, "closed"),
    (Code.PROTOCOL_ERROR, "reply_timeout"),
    (Code.PROTOCOL_ERROR, "helo_rejected"),
    (Code.PROTOCOL_ERROR, "unexpected"),
    (Code.SERVER_UNAVAILABLE, ""),
    (Code.SERVER_UNAVAILABLE, "busy"),
    (Code.SERVER_UNAVAILABLE, "temporary"),
    (Code.PROXY_FAILED, ""),
    (Code.PROXY_FAILED, "invalid_url"),
    (Code.PROXY_FAILED, "refused"),
    (Code.PROXY_FAILED, "auth_failed"),
    (Code.PROXY_FAILED, "target_unreachable"),
    (Code.PROXY_FAILED, "timeout"),
    (Code.PROXY_FAILED, "protocol"),
    (Code.CANCELLED, ""),
    (Code.INVALID_INPUT, ""),
    (Code.INVALID_INPUT, "credentials"),
    (Code.INVALID_INPUT, "credentials_user"),
    (Code.INVALID_INPUT, "message"),
    (Code.OAUTH_CLIENT_REJECTED, "disabled"),
    (Code.OAUTH_ENDPOINT_FAILED, "timeout"),
    (Code.OAUTH_ENDPOINT_FAILED, "unreachable"),
    (Code.OAUTH_ENDPOINT_FAILED, "bad_response"),
    (Code.OAUTH_TIMED_OUT, "device_code"),
    (Code.AUTH_FAILED, "oauth_token_rejected"),
    (Code.AUTH_FAILED, "oauth_wrong_scope"),
    (Code.AUTH_FAILED, "ms_smtp_auth_disabled"),
    (Code.AUTH_FAILED, "ms_basic_auth_unsupported"),
}


def test_every_code_has_a_general_row():
    assert {c for c in Code} == {c for c, v in TABLE if v == ""}


def test_every_produced_variant_has_its_own_row():
    assert set(TABLE) >= PRODUCED


@pytest.mark.parametrize("key", sorted(TABLE, key=lambda k: (k[0].value, k[1])), ids=lambda k: f"{k[0].value}/{k[1]}")
def test_rows_are_complete_and_use_known_placeholders(key):
    e = TABLE[key]
    assert e.title and e.explanation
    if key[0] is not Code.CANCELLED:
        assert e.fixes, "every failure needs at least one concrete fix"
    for text in (e.title, e.explanation, *e.fixes):
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert names <= KNOWN_PARAMS, names - KNOWN_PARAMS
        assert text == text.strip() and "  " not in text


def test_table_strings_are_marked_for_translation_in_the_diagnosis_context():
    folder = Path(__file__).resolve().parents[1] / "app" / "core" / "diagnosis"
    marked, table_strings = set(), set()
    nodes = [
        n
        for f in ("table.py", "oauth.py", "incoming.py", "explain.py")
        for n in ast.walk(ast.parse((folder / f).read_text(encoding="utf-8")))
    ]
    for node in nodes:
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "QT_TRANSLATE_NOOP":
            if not isinstance(node.args[1], ast.Constant):
                continue  # the _T helper itself
            assert isinstance(node.args[0], ast.Constant) and node.args[0].value == "Diagnosis"
            marked.add(node.args[1].value)
    for e in TABLE.values():
        table_strings.update([e.title, e.explanation, *e.fixes])
    assert table_strings <= marked


def test_render_translates_template_first_then_fills_values():
    d = Diagnosis(Code.CONNECT_REFUSED, params={"host": "smtp.example.com", "port": 465, "address": "1.2.3.4:465"})
    seen = []

    def translate(text):
        seen.append(text)
        return "T:" + text

    title, _, fixes = d.render(translate)
    assert "{host} refused the connection on port {port}" in seen
    assert title == "T:smtp.example.com refused the connection on port 465"
    assert fixes and all(f.startswith("T:") for f in fixes)


def test_unknown_variant_falls_back_to_general_row():
    assert entry_for(Code.AUTH_FAILED, "no-such-variant") is TABLE[(Code.AUTH_FAILED, "")]


S = SmtpSettings("smtp.example.com", 587, Security.STARTTLS, username="me@example.com")


@pytest.mark.parametrize(
    "lines,code,expected",
    [
        ((535,), "5.7.8 Username and Password not accepted.", (Code.AUTH_FAILED, "")),
        ((534,), "5.7.9 Application-specific password required.", (Code.APP_PASSWORD_REQUIRED, "")),
        (
            (535,),
            "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
            (Code.AUTH_FAILED, "ms_basic_auth_disabled"),
        ),
        ((535,), "5.7.3 Authentication unsuccessful", (Code.AUTH_FAILED, "")),
        ((530,), "5.7.0 Must issue a STARTTLS command first", (Code.AUTH_REQUIRES_TLS, "")),
        ((504,), "5.5.4 Unrecognized authentication type", (Code.AUTH_MECHANISM_UNSUPPORTED, "refused")),
        ((454,), "4.7.0 Temporary authentication failure", (Code.SERVER_UNAVAILABLE, "temporary")),
        ((534,), "5.7.14 Please log in via your web browser", (Code.APP_PASSWORD_REQUIRED, "")),
        ((535,), "5.7.14 Please log in via your web browser", (Code.AUTH_FAILED, "web_login")),
    ],
)
def test_auth_reply_classification(lines, code, expected):
    d = rc.auth_reply(S, Reply(lines[0], (code,)), "PLAIN", None)
    assert (d.code, d.variant) == expected
    assert d.server_reply.startswith(str(lines[0]))


def test_reply_classification_for_mail_rcpt_data():
    assert (
        rc.sender_rejected(S, Reply(553, ("5.7.1 Sender address rejected: not owned by user",)), "x@y.z").variant
        == "not_owner"
    )
    assert rc.sender_rejected(S, Reply(451, ("4.3.0 try later",)), "x@y.z").variant == "temporary"
    d = rc.recipients_rejected(S, {"a@b.c": Reply(554, ("5.7.1 Relay access denied",))}, [])
    assert (d.code, d.variant) == (Code.RECIPIENT_REJECTED, "relay") and "a@b.c" in d.title
    assert rc.message_rejected(S, Reply(552, ("5.3.4 Message size exceeds fixed limit",))).variant == "too_big"


def test_provider_hints_match_case_insensitively_and_skip_bad_patterns():
    p = Provider(
        id="p",
        kind=ProviderKind.PRESET,
        name={"en": "P"},
        error_hints=(
            ErrorHint(pattern="([", code="auth_failed", fix={"en": "never"}),
            ErrorHint(
                pattern="BLOCKED FOR SPAM",
                code="message_rejected",
                fix={"en": "Wait 24 hours.", "ru": "Подождите сутки."},
                link="https://example.com/help",
            ),
        ),
    )
    d = rc.message_rejected(S, Reply(550, ("5.7.1 Message blocked for spam",)))
    out = rc.apply_provider_hints(d, p)
    assert out.code is Code.MESSAGE_REJECTED and out.provider_fixes["ru"] == ("Подождите сутки.",)
    assert out.fixes[0] == "Wait 24 hours." and "never" not in out.fixes
    assert any(a.kind == "open_url" and a.params["url"] == "https://example.com/help" for a in out.actions)
    untouched = rc.sender_rejected(S, Reply(553, ("nope",)), "x@y.z")
    assert rc.apply_provider_hints(untouched, p) is untouched


def test_greeting_timeout_advice_is_specific():
    d = rc.greeting_timeout(SmtpSettings("smtp.example.com", 587, Security.STARTTLS), 5, started=False)
    assert d.variant == "expects_tls"
    assert [a.params for a in d.actions] == [{"port": 587, "security": "ssl"}, {"port": 465, "security": "ssl"}]
    assert re.search(r"SSL/TLS on port 587", d.fixes[0])
    tls = rc.greeting_timeout(SmtpSettings("smtp.example.com", 465, Security.SSL), 5, started=False)
    assert tls.variant == "" and not tls.actions
