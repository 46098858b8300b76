"""What the Save page runs off the GUI thread (the save, the keyring lookup) and the export text it shows."""

from __future__ import annotations

from typing import Any

EXPORT_LABELS = {
    "env": ".env",
    "django": "Django",
    "nodemailer": "Nodemailer",
    "phpmailer": "PHPMailer",
    "smtplib": "Python smtplib",
    "json": "JSON",
}


def export_formats() -> tuple[str, ...]:
    from app.core.store import EXPORT_FORMATS

    return tuple(EXPORT_FORMATS)


def save_profile_blocking(
    name: str,
    settings: Any,
    from_addr: str,
    from_name: str,
    provider: Any,
    password: str | None,
    *,
    store_secret: bool,
    replace_existing: bool = False,
    keep_secrets: bool = False,
) -> Any:
    """Save the account through the one AccountStore (secrets first, rolled back on failure).

    Raises SecretStoreError / ProfileStoreError (kind EXISTS when the name is taken and not replacing).
    Runs on a worker thread: keyring calls may block on an unlock prompt.
    """
    from app.core.catalog import ProviderKind
    from app.core.incoming import incoming_server_for
    from app.core.store import AccountStore, Profile

    profile = Profile(
        name=name,
        settings=settings,
        from_addr=from_addr,
        from_name=from_name,
        provider_id=getattr(provider, "id", None),
        sandbox=getattr(provider, "kind", None) is ProviderKind.SANDBOX,
        incoming=incoming_server_for(provider, settings),
    )
    return (
        AccountStore()
        .save(
            profile,
            password=password,
            store_secrets=store_secret,
            replace_existing=replace_existing,
            keep_secrets=keep_secrets,
        )
        .profile
    )


def backend_name_blocking() -> str:
    from app.core.store import SecretStore

    return SecretStore().backend_name()


def export_text(model: Any, name: str, fmt: str, *, with_secret: bool) -> str:
    """The account in the model as export ``fmt``; the password (or OAuth refresh token) only ``with_secret``."""
    from app.core.incoming import incoming_server_for
    from app.core.store import Profile, render_export

    profile = Profile(
        name=name or model.email or "mailsetup",
        settings=model.settings,
        from_addr=model.email,
        from_name=model.from_name,
        provider_id=getattr(model.provider, "id", None),
        incoming=incoming_server_for(model.provider, model.settings),
    )
    if model.oauth is not None:  # nodemailer/JSON get OAuth2; the refresh token only when asked
        from app.core.oauth import oauth_profile, render_oauth_export

        account, grant = model.oauth
        oprofile = oauth_profile(
            profile.name, model.provider, account, model.settings.username, settings=model.settings
        )
        token = grant.refresh_token if with_secret else None
        return render_oauth_export(oprofile, fmt, refresh_token=token)
    password = model.password if with_secret else None
    return render_export(profile, fmt, password=password)
