"""What an email verification message says."""

from datetime import datetime
from html import escape

from app.invitations.emails import Email


def verification_email(*, email: str, link: str, token: str, expires_at: datetime) -> Email:
    """The message, as plain text and as HTML (the same words; every value escaped)."""
    expires = f"{expires_at:%Y-%m-%d %H:%M} UTC"
    subject = "Confirm your email address for Tenantry"
    text = (
        f"Confirm that {email} is your address: {link}\n\n"
        f"Or enter this code where you asked for it: {token}\n\n"
        f"The link works once and expires on {expires}. If you did not ask for this, you "
        "can ignore this email."
    )
    html = (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">'
        f"<p>Confirm that <strong>{escape(email)}</strong> is your address.</p>"
        f'<p><a href="{escape(link, quote=True)}">Confirm your email address</a></p>'
        f"<p>Or enter this code where you asked for it: <code>{escape(token)}</code></p>"
        f"<p>The link works once and expires on {escape(expires)}. If you did not ask for "
        "this, you can ignore this email.</p>"
        "</body></html>"
    )
    return Email(subject, text, html)
