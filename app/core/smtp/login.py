"""The AUTH stage of the staged check: the mechanism chosen (allowed ∩ advertised, strongest first) and the
SASL exchange, with every credential masked in the transcript (the encoders are the pure functions in sasl.py).

``AuthStages`` is a mixin of ``SmtpSession`` (session.py); the IMAP/POP3 sessions (app.core.incoming) override
``_auth`` with their own protocol's login.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.catalog import Provider
from app.core.diagnosis import DiagnosedError, stages
from app.core.diagnosis import classify as rc
from app.core.model import QT_TRANSLATE_NOOP, LogLevel, SmtpSettings, Stage, Text, log_text
from app.core.smtp import esmtp, sasl
from app.core.smtp.connection import MASK, Reply, SmtpConnection, SmtpProtocolError


class AuthStages:
    """The AUTH part of SmtpSession (what it uses of the session is declared here for the type checker)."""

    settings: SmtpSettings
    conn: SmtpConnection | None
    capabilities: dict[str, str]
    auth_mechanism: str | None
    auth_verified: bool
    provider: Provider | None
    _password: str | None

    if TYPE_CHECKING:

        def info(self, text: Text, level: LogLevel = LogLevel.INFO) -> None: ...
        async def command(self, line: str, stage: Stage, *, shown: str | None = None) -> Reply: ...

    def choose_mechanism(self) -> str:
        """The mechanism to use: allowed ∩ advertised, strongest first; DiagnosedError if none."""
        s = self.settings
        offered = self.auth_offered()
        mech = sasl.choose(s.auth.value, offered)
        if mech is None:
            raise DiagnosedError(stages.no_common_mechanism(s, sasl.wanted_list(s.auth.value), offered))
        return mech

    def auth_offered(self) -> set[str]:
        return esmtp.auth_offered(self.capabilities)

    async def _auth(self) -> str:
        s = self.settings
        assert self.conn is not None
        if not self.conn.tls and not s.allow_plain_auth:
            starttls = "STARTTLS" in self.capabilities
            raise DiagnosedError(stages.auth_needs_tls(s, starttls, bool(self.auth_offered())))
        mech = self.choose_mechanism()
        self.auth_mechanism = mech
        self.info(
            log_text(
                QT_TRANSLATE_NOOP("Log", "Logging in as {user} with {mechanism}."), user=s.username, mechanism=mech
            ),
            LogLevel.DETAIL,
        )
        reply = await self._auth_exchange(mech)
        if reply.code != 235:
            raise DiagnosedError(rc.auth_reply(s, reply, mech, self.provider, getattr(self, "bearer_challenge", None)))
        self.auth_verified = True
        return f"{mech} accepted"

    async def _auth_exchange(self, mech: str) -> Reply:
        user = self.settings.username
        password = self._password or ""
        if mech == "PLAIN":
            return await self.command(
                f"AUTH PLAIN {sasl.plain(user, password)}", Stage.AUTH, shown=f"AUTH PLAIN {MASK}"
            )
        if mech == "XOAUTH2":
            token = sasl.xoauth2(user, password)
            reply = await self.command(f"AUTH XOAUTH2 {token}", Stage.AUTH, shown=f"AUTH XOAUTH2 {MASK}")
            if reply.code == 334:  # error details as a challenge; an empty line ends the exchange
                self.bearer_challenge = reply.message[:4096]
                reply = await self.command("", Stage.AUTH, shown="")
            return reply
        if mech == "LOGIN":
            reply = await self.command("AUTH LOGIN", Stage.AUTH)
            for item in (user, password):
                if reply.code != 334:
                    return reply
                reply = await self.command(sasl.login_item(item), Stage.AUTH, shown=MASK)
            return reply
        if mech == "CRAM-MD5":
            reply = await self.command("AUTH CRAM-MD5", Stage.AUTH)
            if reply.code != 334:
                return reply
            try:
                answer = sasl.cram_md5(user, password, reply.message)
            except ValueError as exc:
                if self.conn is not None:
                    self.conn.send_line("*")  # cancel the exchange (RFC 4954)
                raise SmtpProtocolError("garbage", str(exc)) from None
            return await self.command(answer, Stage.AUTH, shown=MASK)
        raise DiagnosedError(stages.no_common_mechanism(self.settings, (mech,), (mech,)))
