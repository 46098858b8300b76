"""The stable failure codes: the vocabulary shared by the diagnosis table, the catalogue's error hints
and the CLI's JSON contract."""

from __future__ import annotations

from enum import Enum


class Code(str, Enum):
    """Stable failure codes (part of the CLI's JSON contract)."""

    DNS_FAILED = "dns_failed"
    NETWORK_UNREACHABLE = "network_unreachable"
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    GREETING_TIMEOUT = "greeting_timeout"
    TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
    CERT_UNTRUSTED = "cert_untrusted"
    CERT_HOSTNAME_MISMATCH = "cert_hostname_mismatch"
    CERT_EXPIRED = "cert_expired"
    STARTTLS_UNSUPPORTED = "starttls_unsupported"
    AUTH_FAILED = "auth_failed"
    AUTH_MECHANISM_UNSUPPORTED = "auth_mechanism_unsupported"
    AUTH_REQUIRES_TLS = "auth_requires_tls"
    APP_PASSWORD_REQUIRED = "app_password_required"
    SENDER_REJECTED = "sender_rejected"
    RECIPIENT_REJECTED = "recipient_rejected"
    MESSAGE_REJECTED = "message_rejected"
    PROTOCOL_ERROR = "protocol_error"
    SERVER_UNAVAILABLE = "server_unavailable"
    PROXY_FAILED = "proxy_failed"
    CANCELLED = "cancelled"
    # OAuth 2.0 sign-in (app.core.oauth): the authorization server's answers and the flow's own failures
    OAUTH_CONSENT_REQUIRED = "oauth_consent_required"
    OAUTH_SIGN_IN_AGAIN = "oauth_sign_in_again"
    OAUTH_DENIED = "oauth_denied"
    OAUTH_CLIENT_REJECTED = "oauth_client_rejected"
    OAUTH_REDIRECT_MISMATCH = "oauth_redirect_mismatch"
    OAUTH_SCOPE_INVALID = "oauth_scope_invalid"
    OAUTH_ENDPOINT_FAILED = "oauth_endpoint_failed"
    OAUTH_STATE_MISMATCH = "oauth_state_mismatch"
    OAUTH_TIMED_OUT = "oauth_timed_out"
    OAUTH_NOT_SIGNED_IN = "oauth_not_signed_in"
    # the incoming side (app.core.incoming): IMAP/POP3 switched off for the account, and the round trip
    INCOMING_DISABLED = "incoming_disabled"
    DELIVERY_IN_SPAM = "delivery_in_spam"
    DELIVERY_NOT_CONFIRMED = "delivery_not_confirmed"
    # the reply decoder (mailsetup explain): a reply or status code that matches no specific case
    REPLY_UNKNOWN = "reply_unknown"
    # not from the network: the input itself is unusable (caught before connecting)
    INVALID_INPUT = "invalid_input"
