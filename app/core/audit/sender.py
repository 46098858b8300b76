"""The From address against the login: does the provider (catalogue data) rewrite or refuse it?"""

from __future__ import annotations

from app.core.audit.model import Finding, Status
from app.core.audit.texts import T, finding
from app.core.catalog import Provider
from app.core.model import QT_TRANSLATE_NOOP, AddressError, parse_address


def normalize_domain(text: str) -> str:
    """The domain to audit from a domain or an address (IDN to ASCII); ValueError with a clear message."""
    value = (text or "").strip()
    if "@" in value:
        value = parse_address(value).domain
    value = value.rstrip(".").lower()
    try:
        parse_address(f"postmaster@{value}")
        ascii_domain = value.encode("idna").decode("ascii")
    except (AddressError, UnicodeError) as exc:
        raise ValueError(f"'{value[:100]}' is not a domain name") from exc
    if "." not in ascii_domain:
        raise ValueError(f"'{value[:100]}' is not a domain name (it needs a dot, e.g. example.com)")
    return ascii_domain


def audits_after_send(smtp_host: str, *, sandbox: bool = False) -> bool:
    """Whether a successful test send should start the audit by itself: not for the local sandbox nor a
    server on this machine (a test server or a local relay: the user can still start it), since the audit
    asks the public DNS about the From domain."""
    import ipaddress

    host = (smtp_host or "").strip().strip("[]").lower().rstrip(".")
    if sandbox or not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def check_from_login(from_address: str, login: str, provider: Provider | None) -> Finding | None:
    """A finding when From and the login are different addresses (None when they match or one is absent)."""
    try:
        sender = parse_address(from_address).addr.lower() if from_address else ""
    except AddressError:
        return None
    if not sender or not login or "@" not in login or sender == login.strip().lower():
        return None
    rule = provider.sending.foreign_from if provider else ""
    name = provider.display_name("en") if provider else ""
    details = {"from": sender, "login": login, "provider": provider.id if provider else "", "rule": rule}
    if rule == "reject":
        return finding(
            "from_login",
            Status.FAIL,
            T(QT_TRANSLATE_NOOP("Audit", "{provider} refuses a From address other than the login"), provider=name),
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "Mail from {sender} sent with the login {login} is refused by the server. Send from the "
                    "mailbox's own address, or give the login the right to send as {sender} in the provider's "
                    "settings.",
                ),
                sender=sender,
                login=login,
            ),
            **details,
        )
    if rule == "rewrite":
        return finding(
            "from_login",
            Status.WARN,
            T(QT_TRANSLATE_NOOP("Audit", "{provider} rewrites the From address to the login"), provider=name),
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "Recipients will see {login} instead of {sender} unless {sender} is added to the account as a "
                    'verified "send mail as" address.',
                ),
                sender=sender,
                login=login,
            ),
            **details,
        )
    return finding(
        "from_login",
        Status.INFO,
        T(QT_TRANSLATE_NOOP("Audit", "The From address differs from the login")),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "Some servers refuse or rewrite a From address the login does not own. If the test send from "
                "{sender} arrived unchanged, this server allows it.",
            ),
            sender=sender,
        ),
        **details,
    )


__all__ = ["audits_after_send", "check_from_login", "normalize_domain"]
