"""The one diagnosis table (data only): failure code -> title, plain explanation, concrete fixes.

The types (Entry, Action) are in entry.py; Diagnosis, diagnose() and entry_for() in model.py.

Texts are English templates with ``{name}`` placeholders. They are marked with
``QT_TRANSLATE_NOOP("Diagnosis", ...)`` (a no-op here, so this module stays
Qt-free) so that pyside6-lupdate collects them; the GUI translates the template
first and fills the values after (``Diagnosis.render(translate)``), never the
other way round.
"""

from __future__ import annotations

from app.core.diagnosis.entry import CONTEXT, Entry
from app.core.model import QT_TRANSLATE_NOOP, Code

__all__ = ["CONTEXT", "PARAM_WORDS", "QT_TRANSLATE_NOOP", "STAGE_NAMES", "TABLE", "Code", "Entry"]


# (code, variant) -> Entry. Variant "" is the general case of a code.
# Texts are templates: {host}, {port}, {address}, ... are filled after translation.
TABLE: dict[tuple[Code, str], Entry] = {
    (Code.DNS_FAILED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server name {host} could not be found"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The name {host} does not resolve to any address ({detail}). Usually the name is mistyped, or this computer has no working DNS.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check the spelling of the server name, e.g. smtp.gmail.com, smtp.yandex.ru, smtp.mail.ru."
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Make sure this computer is online: open any website, or run 'nslookup {host}'."
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If you are on a corporate network or VPN, ask whether external names are resolved there."
            ),
        ),
    ),
    (Code.DNS_FAILED, "temporary"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The name {host} could not be looked up right now"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The DNS server did not give a final answer for {host} ({detail}). This is usually a temporary network problem.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Wait a moment and try again."),
            QT_TRANSLATE_NOOP("Diagnosis", "Check that this computer is online and its DNS servers work."),
        ),
    ),
    (Code.DNS_FAILED, "timeout"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Looking up {host} took too long"),
        QT_TRANSLATE_NOOP("Diagnosis", "The DNS lookup for {host} did not finish in time ({detail})."),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check this computer's internet connection and DNS settings, then try again."
            ),
        ),
    ),
    (Code.NETWORK_UNREACHABLE, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The network path to {host} is unavailable"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "This computer could not send packets to {address} ({detail}). There may be no internet connection, no IPv6 route, or a firewall blocking the way.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check that this computer is online."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If only an IPv6 address failed, check IPv6 connectivity or use the server's IPv4 address."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Check firewalls and VPN settings that may block outgoing connections."),
        ),
    ),
    (Code.CONNECT_REFUSED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused the connection on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server answered but nothing accepts connections on port {port} ({address}). The port is probably wrong for this server.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check the port: 465 is for SSL/TLS, 587 for STARTTLS, 25 for server-to-server mail."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Try port 587 with STARTTLS or port 465 with SSL/TLS."),
            QT_TRANSLATE_NOOP("Diagnosis", "Let the program find working settings automatically."),
        ),
    ),
    (Code.CONNECT_REFUSED, "tried_587"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused the connection on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server answered but nothing accepts connections on port {port} ({address}). The port is probably wrong for this server.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Port 587 (STARTTLS) was tried: try port 465 with SSL/TLS."),
            QT_TRANSLATE_NOOP("Diagnosis", "Let the program find working settings automatically."),
        ),
    ),
    (Code.CONNECT_REFUSED, "tried_465"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused the connection on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server answered but nothing accepts connections on port {port} ({address}). The port is probably wrong for this server.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Port 465 (SSL/TLS) was tried: try port 587 with STARTTLS."),
            QT_TRANSLATE_NOOP("Diagnosis", "Let the program find working settings automatically."),
        ),
    ),
    (Code.CONNECT_REFUSED, "tried_both"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused the connection on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "Both submission ports, 587 and 465, refuse connections on {host}. This is probably not the mail server for sending, or it is down.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check the server name in your provider's instructions (e.g. smtp.example.com)."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Let the program find working settings automatically."),
        ),
    ),
    (Code.CONNECT_TIMEOUT, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "No answer from {host} on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The connection to {address} got no answer within {seconds} s. A firewall, your provider or the server is silently dropping connections to this port.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try the other submission port: 587 with STARTTLS or 465 with SSL/TLS."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check firewalls, antivirus 'mail shields' and VPNs on this computer and network."
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If you are in a cloud or corporate network, ask whether outgoing SMTP is blocked."
            ),
        ),
    ),
    (Code.CONNECT_TIMEOUT, "port25"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Port 25 is probably blocked on your network"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The connection to {address} on port 25 got no answer within {seconds} s. Most home internet providers and cloud platforms (AWS, Google Cloud, Azure, many VPS hosts) block outgoing port 25 to stop spam. Port 25 is meant for server-to-server mail, not for programs that log in.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Use port 587 with STARTTLS, or port 465 with SSL/TLS: these are the ports for sending with a login.",
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If you really need port 25, ask your provider or cloud platform to unblock it."
            ),
        ),
    ),
    (Code.GREETING_TIMEOUT, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server did not greet within {seconds} s"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "A connection to {host}:{port} was made, but the server sent no SMTP greeting within {seconds} s. The server may be overloaded, or something in between is holding the connection.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try again in a minute."),
            QT_TRANSLATE_NOOP("Diagnosis", "Increase the greeting timeout if the server is known to be slow."),
            QT_TRANSLATE_NOOP("Diagnosis", "Check the port and security mode for this server."),
        ),
    ),
    (Code.GREETING_TIMEOUT, "expects_tls"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Port {port} is probably waiting for an encrypted (SSL/TLS) connection"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The connection to {host}:{port} was made, but the server stayed silent for {seconds} s. That is what an implicit-TLS port (usually 465) does when a client starts without encryption: it waits for a TLS handshake while the client waits for a greeting.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Switch the security mode to SSL/TLS on port {port}."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Or use port 587 with STARTTLS, which starts unencrypted and then upgrades."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Port 465 always needs SSL/TLS; port 587 needs STARTTLS."),
        ),
    ),
    (Code.GREETING_TIMEOUT, "implicit_tls"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Port {port} speaks SSL/TLS from the first byte"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server on {host}:{port} sent no greeting to an unencrypted start, but a TLS handshake on the same port succeeded within {seconds} s. The port expects implicit SSL/TLS, so the security mode does not match it.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Switch the security mode to SSL/TLS on port {port}."),
            QT_TRANSLATE_NOOP("Diagnosis", "Port 465 always needs SSL/TLS; port 587 needs STARTTLS."),
        ),
    ),
    (Code.GREETING_TIMEOUT, "silent"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server on port {port} accepts connections but says nothing"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "A connection to {host}:{port} was made, but no SMTP greeting came within {seconds} s, and the port does not answer a TLS handshake either. Changing the security mode will not help: the service behind this port is stuck, or a firewall, proxy or antivirus holds the connection.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check that the server name and port are right for sending mail."),
            QT_TRANSLATE_NOOP("Diagnosis", "Try the other submission port (587 with STARTTLS, or 465 with SSL/TLS)."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "If it keeps happening, ask the network or mail server administrator what holds port {port}.",
            ),
        ),
    ),
    (Code.GREETING_TIMEOUT, "slow"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server's greeting did not arrive in time"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server on {host}:{port} started to send its greeting but did not finish it within {seconds} s. It is very slow or misbehaving.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try again later."),
            QT_TRANSLATE_NOOP("Diagnosis", "If this keeps happening, contact the mail server's administrator."),
        ),
    ),
    (Code.TLS_HANDSHAKE_FAILED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The encrypted connection could not be set up"),
        QT_TRANSLATE_NOOP("Diagnosis", "The TLS handshake with {host}:{port} failed ({detail})."),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check that the security mode matches the port: SSL/TLS for 465, STARTTLS for 587."
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "If the server is old, it may only support outdated TLS versions; ask its administrator to update it.",
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Check whether antivirus or a proxy intercepts encrypted connections."),
        ),
    ),
    (Code.TLS_HANDSHAKE_FAILED, "plaintext_port"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Port {port} does not use SSL/TLS from the start"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server on {host}:{port} answered in plain text, so it expects an unencrypted start followed by STARTTLS, not implicit SSL/TLS. The security mode does not match the port ({detail}).",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Switch the security mode to STARTTLS on port {port}."),
            QT_TRANSLATE_NOOP("Diagnosis", "Or use port 465 with SSL/TLS if the server offers it."),
            QT_TRANSLATE_NOOP("Diagnosis", "Ports 587 and (usually) 25 use STARTTLS; port 465 uses SSL/TLS."),
        ),
    ),
    (Code.TLS_HANDSHAKE_FAILED, "version"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server and this program share no TLS version"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "The server on {host}:{port} does not support the TLS versions allowed here ({detail})."
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "If you required TLS 1.3, allow TLS 1.2 as well."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "If the server only supports TLS 1.0/1.1, it is outdated and insecure: ask its administrator to update it.",
            ),
        ),
    ),
    (Code.TLS_HANDSHAKE_FAILED, "timeout"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The TLS handshake did not finish in time"),
        QT_TRANSLATE_NOOP("Diagnosis", "The server on {host}:{port} did not complete the TLS handshake ({detail})."),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check that the security mode matches the port: SSL/TLS for 465, STARTTLS for 587."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Try again later; the server may be overloaded."),
        ),
    ),
    (Code.CERT_UNTRUSTED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server's certificate is not trusted"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The certificate of {host} ({subject}, issued by {issuer}) is not signed by an authority this computer trusts ({detail}). This happens with company-internal authorities, or when something intercepts the connection.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "If your company uses its own certificate authority, add its certificate with the CA file option (--cafile).",
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If you trust this server, trust exactly this certificate: SHA-256 {sha256}."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Check that antivirus or a proxy is not intercepting the connection."),
        ),
        {
            "gui": (
                QT_TRANSLATE_NOOP(
                    "Diagnosis",
                    "If your company uses its own certificate authority, choose its certificate file (Choose CA file…).",
                ),
                QT_TRANSLATE_NOOP(
                    "Diagnosis", "If you trust this server, trust exactly this certificate: SHA-256 {sha256}."
                ),
                QT_TRANSLATE_NOOP("Diagnosis", "Check that antivirus or a proxy is not intercepting the connection."),
            )
        },
    ),
    (Code.CERT_UNTRUSTED, "self_signed"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server uses a self-signed certificate"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The certificate of {host} ({subject}) is self-signed: nobody vouches for it ({detail}). Anyone in the middle could present such a certificate, so it is not accepted automatically.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Compare the fingerprint with the one the server's administrator gives you: SHA-256 {sha256}.",
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If they match, trust exactly this certificate (it is pinned by its fingerprint)."
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Better: ask the administrator to install a certificate from a public authority (for example Let's Encrypt).",
            ),
        ),
    ),
    (Code.CERT_UNTRUSTED, "pin_mismatch"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The certificate changed: it does not match the pinned fingerprint"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "You trusted one specific certificate for {host}, but the server now presents another one (SHA-256 {sha256}). It may have been renewed, or someone may be intercepting the connection.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Ask the server's administrator whether the certificate was renewed and compare the fingerprint.",
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "If it is legitimate, trust the new certificate instead."),
        ),
    ),
    (Code.CERT_HOSTNAME_MISMATCH, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The certificate is for a different server name"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "You connected to {host}, but its certificate is valid only for: {sans} ({detail}). Either the server name is not the official one, or the connection is not going where you expect.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Use the server name that the certificate names (often the provider's official SMTP host)."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "If you connect by IP address or an alias, use the real host name instead."),
        ),
    ),
    (Code.CERT_EXPIRED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server's certificate has expired"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "The certificate of {host} was valid until {not_after}. Expired certificates are not accepted."
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check that this computer's date and time are correct."),
            QT_TRANSLATE_NOOP("Diagnosis", "Tell the server's administrator that the certificate has expired."),
        ),
    ),
    (Code.CERT_EXPIRED, "not_yet_valid"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server's certificate is not valid yet"),
        QT_TRANSLATE_NOOP("Diagnosis", "The certificate of {host} becomes valid only on {not_before}."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Check that this computer's date and time are correct."),),
    ),
    (Code.STARTTLS_UNSUPPORTED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server does not offer STARTTLS on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host}:{port} does not announce STARTTLS, so the connection cannot be encrypted in STARTTLS mode.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "If the server offers port 465, use SSL/TLS there."),
            QT_TRANSLATE_NOOP("Diagnosis", "Check the port: submission with STARTTLS is usually 587."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Only if the network is trusted (e.g. a local relay): choose no encryption."
            ),
        ),
    ),
    (Code.STARTTLS_UNSUPPORTED, "refused"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server refused to start TLS"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "{host}:{port} announced STARTTLS but then refused to start it (see the server's reply)."
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try again later."),
            QT_TRANSLATE_NOOP("Diagnosis", "Use port 465 with SSL/TLS if available."),
        ),
    ),
    (Code.AUTH_FAILED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server rejected the login or password"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} did not accept the login {user} with this password. Most often the password is wrong, or the provider wants an app password instead of the account password.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the login: most providers want the full email address."),
            QT_TRANSLATE_NOOP("Diagnosis", "Re-enter the password; check the keyboard layout and Caps Lock."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If the account has two-step verification, create an app password and use it instead."
            ),
        ),
    ),
    (Code.AUTH_FAILED, "app_password"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Login failed: {provider} needs an app password"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} did not accept the login {user}. {provider} does not accept your normal account password from mail programs; it needs a separate app password.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Create an app password in your {provider} account security settings and paste it here."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Check the login: usually the full email address."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If you already use an app password, create a new one: it may have been revoked."
            ),
        ),
    ),
    (Code.AUTH_FAILED, "api_key"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Login failed: the API key was not accepted"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} did not accept the login {user} with this key."),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Check that the login is exactly what {provider} requires (some use a fixed login such as 'apikey').",
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Create a new API key with permission to send mail and paste it here."),
        ),
    ),
    (Code.AUTH_FAILED, "ms_basic_auth_disabled"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Password login (SMTP AUTH) is turned off for this Microsoft 365 account"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server says authenticated SMTP (password login) is disabled for the organisation or the mailbox. Microsoft turns it off by default; the password itself may be right.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "In the Microsoft 365 admin center, enable 'Authenticated SMTP' for this mailbox (Users > Mail > Manage email apps).",
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Or have the administrator allow SMTP AUTH for the organisation (Set-TransportConfig -SmtpClientAuthenticationDisabled $false).",
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Or use OAuth2 (XOAUTH2) instead of a password."),
        ),
    ),
    (Code.AUTH_FAILED, "web_login"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The provider wants you to sign in through a web browser first"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server refused the login and asks for a sign-in in a web browser or another verification first.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Sign in to the account in a web browser and confirm any security prompt."),
            QT_TRANSLATE_NOOP("Diagnosis", "Then create an app password and use it here."),
        ),
    ),
    (Code.AUTH_MECHANISM_UNSUPPORTED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "No common login method"),
        QT_TRANSLATE_NOOP("Diagnosis", "The server offers login methods {offered}, but the chosen method is {wanted}."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Choose the login method 'auto' or one the server offers."),),
    ),
    (Code.AUTH_MECHANISM_UNSUPPORTED, "none_offered"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server does not offer a login on this connection"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host}:{port} does not announce AUTH, so it cannot check a login here. It may be a relay that only accepts mail from certain networks, or login is only offered on another port.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Use the submission port (587 with STARTTLS or 465 with SSL/TLS)."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If this is a trusted relay that needs no login, leave the login and password empty."
            ),
        ),
    ),
    (Code.AUTH_MECHANISM_UNSUPPORTED, "refused"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server refused the login method {mechanism}"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} does not accept the login method {mechanism}, although it was chosen."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Choose the login method 'auto' or another one the server offers."),),
    ),
    (Code.AUTH_REQUIRES_TLS, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Login is only offered after encryption is switched on"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "You chose no encryption, but {host}:{port} offers a login only after STARTTLS. It will not accept a password over an unencrypted connection.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Switch the security mode to STARTTLS on port {port}."),
            QT_TRANSLATE_NOOP("Diagnosis", "Or use SSL/TLS on port 465."),
        ),
    ),
    (Code.AUTH_REQUIRES_TLS, "plain_refused"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The password would be sent unencrypted"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The connection to {host}:{port} is not encrypted, so the password could be read by anyone on the way. It was not sent.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Use STARTTLS (port 587) or SSL/TLS (port 465)."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Only on a trusted network: explicitly allow sending the password without encryption."
            ),
        ),
    ),
    (Code.APP_PASSWORD_REQUIRED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "This account needs an app password"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server says the normal account password cannot be used here. Accounts with two-step verification need a separate app password for mail programs.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Turn on two-step verification for the account if it is not on yet."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Create an app password in the account security settings and use it instead of your normal password.",
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Paste it exactly; spaces shown in groups do not matter."),
        ),
    ),
    (Code.SENDER_REJECTED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server refused the sender address {address}"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} would not accept mail from {address} (see the server's reply)."),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the sender address for typos."),
            QT_TRANSLATE_NOOP("Diagnosis", "Use the address of the account you log in with ({user})."),
        ),
    ),
    (Code.SENDER_REJECTED, "not_owner"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "You may not send as {address}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "{host} only lets you send from addresses that belong to your account ({user})."
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Use your own mailbox address as the sender."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "To send as another address, add it as an alias or 'send as' address in the provider's settings first.",
            ),
        ),
    ),
    (Code.SENDER_REJECTED, "temporary"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server temporarily refused the sender {address}"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused mail from {address} for now; this is usually temporary."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Try again later; you may have hit a sending limit."),),
    ),
    (Code.SENDER_REJECTED, "auth_required"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server wants a login before it accepts mail"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} takes mail from {address} only after a login."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Enter the login and password of the mailbox and try again."),),
    ),
    (Code.SENDER_REJECTED, "needs_tls"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server wants encryption before it accepts mail"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} does not take mail over an unencrypted connection."),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Switch the security mode to STARTTLS on port {port}, or use SSL/TLS on port 465."
            ),
        ),
    ),
    (Code.SENDER_REJECTED, "needs_smtputf8"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The address {address} needs internationalized email support"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "The address {address} contains non-ASCII characters, but {host} does not support SMTPUTF8."
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Use an ASCII-only address (or its punycode form for the domain)."),),
    ),
    (Code.RECIPIENT_REJECTED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server refused the recipient(s): {addresses}"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} would not accept mail for {addresses} (see the server's reply)."),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the recipient addresses for typos."),
            QT_TRANSLATE_NOOP("Diagnosis", "If the server refuses to relay, make sure you are logged in."),
        ),
    ),
    (Code.RECIPIENT_REJECTED, "partial"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Some recipients were refused: {addresses}"),
        QT_TRANSLATE_NOOP("Diagnosis", "The message went to {accepted}, but {host} refused {addresses}."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Check the refused addresses for typos and send to them again."),),
    ),
    (Code.RECIPIENT_REJECTED, "relay"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server will not relay mail to {addresses}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} refuses to pass mail on to other domains for this connection. Usually the login is missing or the wrong port is used.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Log in with your account (enter login and password)."),
            QT_TRANSLATE_NOOP("Diagnosis", "Use the submission port 587 or 465 rather than 25."),
        ),
    ),
    (Code.RECIPIENT_REJECTED, "relay_authenticated"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server will not relay mail to {addresses}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "You are logged in as {user}, yet {host} refuses to pass mail on to {addresses}. The account may not be allowed to send to other domains, or only from its own address.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Send from the address that belongs to the account you logged in with."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Ask the mail administrator whether this account may send to external recipients."
            ),
        ),
    ),
    (Code.RECIPIENT_REJECTED, "needs_smtputf8"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The address {address} needs internationalized email support"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The recipient address {address} contains non-ASCII characters, but {host} does not support SMTPUTF8.",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Use an ASCII-only address for this recipient."),),
    ),
    (Code.MESSAGE_REJECTED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server rejected the message"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} accepted the sender and recipients but refused the message itself (see the server's reply).",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Read the server's reason below; remove suspicious content or attachments and try again."
            ),
        ),
    ),
    (Code.MESSAGE_REJECTED, "too_big"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The message is too big for the server"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused the message because of its size."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Send smaller attachments, or share large files by link."),),
    ),
    (Code.MESSAGE_REJECTED, "policy"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server's policy or spam filter rejected the message"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused the message by policy (spam filter or sender rules)."),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Make sure the sender address belongs to your account and domain (SPF/DKIM/DMARC)."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Avoid test messages with empty subject or body; try a normal short text."),
        ),
    ),
    (Code.PROTOCOL_ERROR, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server did not behave like an SMTP server"),
        QT_TRANSLATE_NOOP("Diagnosis", "The conversation with {host}:{port} broke off during {stage}: {detail}"),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the host and port: they may belong to another service."),
            QT_TRANSLATE_NOOP("Diagnosis", "Try again; if it persists, contact the server's administrator."),
        ),
    ),
    (Code.PROTOCOL_ERROR, "garbage"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The answer from {host}:{port} is not SMTP"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "During {stage} the server sent something that is not an SMTP reply ({detail}). The port probably belongs to another service (a web or IMAP server), or a proxy or antivirus interferes.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the port: SMTP submission is 587 (STARTTLS) or 465 (SSL/TLS)."),
            QT_TRANSLATE_NOOP("Diagnosis", "Check that the host name is the SMTP server, not the web or IMAP server."),
        ),
    ),
    (Code.PROTOCOL_ERROR, "too_long"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server sent an over-long answer"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "During {stage} the server sent {detail}; a real SMTP server never does that. The port probably belongs to another service.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the host and port."),
            QT_TRANSLATE_NOOP("Diagnosis", "Contact the server's administrator if they are right."),
        ),
    ),
    (Code.PROTOCOL_ERROR, "closed"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server closed the connection"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host}:{port} dropped the connection during {stage}. It may limit connections, block your address, or expect a different security mode.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check that the security mode matches the port (465: SSL/TLS, 587: STARTTLS)."
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Wait a few minutes and try again; too many attempts can get your address blocked temporarily.",
            ),
        ),
    ),
    (Code.PROTOCOL_ERROR, "reply_timeout"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server stopped answering"),
        QT_TRANSLATE_NOOP("Diagnosis", "During {stage} {host}:{port} gave {detail}."),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try again later."),
            QT_TRANSLATE_NOOP("Diagnosis", "Check firewalls or antivirus that inspect mail traffic."),
        ),
    ),
    (Code.PROTOCOL_ERROR, "upload_stalled"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server stopped taking the message"),
        QT_TRANSLATE_NOOP("Diagnosis", "While the message was uploaded to {host}:{port}, {detail}."),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try again with a smaller attachment, or on a faster connection."),
            QT_TRANSLATE_NOOP("Diagnosis", "Check firewalls or antivirus that inspect mail traffic."),
        ),
    ),
    (Code.PROTOCOL_ERROR, "helo_rejected"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server refused to talk to this computer"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} rejected both EHLO and HELO, the first commands of every session."),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Set an EHLO name that is a real host name of this computer."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Your address may be on a block list; try another network or ask the server's administrator.",
            ),
        ),
    ),
    (Code.PROTOCOL_ERROR, "unexpected"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The check stopped on an unexpected problem"),
        QT_TRANSLATE_NOOP("Diagnosis", "During {stage} an unexpected error occurred: {detail}"),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Try again; if it persists, report it with the -vv transcript (it never contains your password).",
            ),
        ),
    ),
    (Code.SERVER_UNAVAILABLE, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server refused the session"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host}:{port} answered but is not accepting mail now. It may be overloaded, under maintenance, or refusing your address.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try again later."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "If it keeps refusing, your IP address may be blocked; try another network or contact the provider.",
            ),
        ),
    ),
    (Code.SERVER_UNAVAILABLE, "busy"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server is busy or closing the connection"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "{host}:{port} answered 421: it cannot serve you right now and closes the connection."
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Wait a few minutes and try again."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Too many connections from your address can cause this; close other mail programs."
            ),
        ),
    ),
    (Code.SERVER_UNAVAILABLE, "temporary"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server has a temporary problem"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} reported a temporary failure."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Try again in a few minutes."),),
    ),
    (Code.PROXY_FAILED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy did not work"),
        QT_TRANSLATE_NOOP("Diagnosis", "The connection through the proxy {proxy} failed: {reason}"),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the proxy address, port and type (socks5, socks4, http)."),
            QT_TRANSLATE_NOOP("Diagnosis", "Try without the proxy to see whether it is the cause."),
        ),
    ),
    (Code.PROXY_FAILED, "invalid_url"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy address is not valid"),
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy setting could not be understood: {reason}"),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Write it like socks5://host:1080, socks5://user:password@host:1080 or http://host:8080."
            ),
        ),
    ),
    (Code.PROXY_FAILED, "refused"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy cannot be reached"),
        QT_TRANSLATE_NOOP("Diagnosis", "Connecting to the proxy {proxy} failed: {reason}"),
        (QT_TRANSLATE_NOOP("Diagnosis", "Check that the proxy is running and its address and port are right."),),
    ),
    (Code.PROXY_FAILED, "auth_failed"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy rejected the login"),
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy {proxy} did not accept the credentials: {reason}"),
        (QT_TRANSLATE_NOOP("Diagnosis", "Check the proxy user name and password in the proxy address."),),
    ),
    (Code.PROXY_FAILED, "target_unreachable"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy cannot reach the mail server"),
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy {proxy} could not or would not connect to {target}: {reason}"),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check that the proxy allows connections to mail ports (465, 587)."),
            QT_TRANSLATE_NOOP("Diagnosis", "Try the other submission port."),
        ),
    ),
    (Code.PROXY_FAILED, "timeout"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy did not answer in time"),
        QT_TRANSLATE_NOOP("Diagnosis", "No answer through the proxy {proxy}: {reason}"),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check that the proxy is running and reachable."),
            QT_TRANSLATE_NOOP("Diagnosis", "Increase the timeout if the proxy is slow."),
        ),
    ),
    (Code.PROXY_FAILED, "protocol"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The proxy speaks a different protocol"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "The other side at {proxy} did not answer like the proxy type in the address: {reason}"
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check the proxy type in the address: socks5://, socks4://, socks4a:// or http://."
            ),
        ),
    ),
    (Code.CANCELLED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Cancelled"),
        QT_TRANSLATE_NOOP("Diagnosis", "The check was cancelled during {stage}; the connection was closed."),
    ),
    (Code.INVALID_INPUT, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The settings are not complete"),
        QT_TRANSLATE_NOOP("Diagnosis", "{field}: {message}"),
        (QT_TRANSLATE_NOOP("Diagnosis", "Correct the highlighted field and try again."),),
    ),
    (Code.INVALID_INPUT, "credentials"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Login and password go together"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The password is missing: give both a login and a password to check the login, or neither to check only the connection.",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Enter the password, or clear the login to check only the connection."),),
    ),
    (Code.INVALID_INPUT, "credentials_user"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Login and password go together"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The login is missing: give both a login and a password to check the login, or neither to check only the connection.",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Enter the login, or clear the password to check only the connection."),),
    ),
    (Code.INVALID_INPUT, "message"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The message is not valid"),
        QT_TRANSLATE_NOOP("Diagnosis", "{field}: {message}"),
        (QT_TRANSLATE_NOOP("Diagnosis", "Correct the field and try again."),),
    ),
}


# Stage names as they read inside a sentence ("during {stage}"), translated when rendered.
STAGE_NAMES: dict[str, str] = {
    "resolve": QT_TRANSLATE_NOOP("Diagnosis", "the DNS lookup"),
    "connect": QT_TRANSLATE_NOOP("Diagnosis", "the connection"),
    "tls": QT_TRANSLATE_NOOP("Diagnosis", "the TLS handshake"),
    "greeting": QT_TRANSLATE_NOOP("Diagnosis", "the greeting"),
    "ehlo": QT_TRANSLATE_NOOP("Diagnosis", "the EHLO exchange"),
    "starttls": QT_TRANSLATE_NOOP("Diagnosis", "the STARTTLS upgrade"),
    "auth": QT_TRANSLATE_NOOP("Diagnosis", "the login"),
    "mail_from": QT_TRANSLATE_NOOP("Diagnosis", "the MAIL FROM command"),
    "rcpt_to": QT_TRANSLATE_NOOP("Diagnosis", "the RCPT TO command"),
    "data": QT_TRANSLATE_NOOP("Diagnosis", "the message transfer (DATA)"),
    "quit": QT_TRANSLATE_NOOP("Diagnosis", "the QUIT command"),
    "capability": QT_TRANSLATE_NOOP("Diagnosis", "the capability exchange"),
    "delivery": QT_TRANSLATE_NOOP("Diagnosis", "the search for the test message"),
}


# Values that are words, translated when rendered: param name -> {value -> template}. An empty or
# missing host, login or address (the reply decoder knows none) reads as a word, never as "{host}".
PARAM_WORDS: dict[str, dict[str, str]] = {
    "stage": STAGE_NAMES,
    "host": {"": QT_TRANSLATE_NOOP("Diagnosis", "The server")},
    "user": {"": QT_TRANSLATE_NOOP("Diagnosis", "…")},
    "address": {"": QT_TRANSLATE_NOOP("Diagnosis", "…")},
    "addresses": {"": QT_TRANSLATE_NOOP("Diagnosis", "…")},
}
