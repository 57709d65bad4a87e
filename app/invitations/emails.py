"""What an invitation email says: who invites whom to which organization, and the link."""

from dataclasses import dataclass
from datetime import datetime
from html import escape


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    text: str
    html: str


def invitation_email(
    *, organization: str, inviter: str, role: str, link: str, expires_at: datetime
) -> Email:
    """The invitation, as plain text and as HTML (the same words; every value escaped)."""
    expires = f"{expires_at:%Y-%m-%d %H:%M} UTC"
    subject = f"{inviter} invited you to join {organization}"
    text = (
        f"{inviter} invited you to join {organization} on Tenantry as {role}.\n\n"
        f"Accept the invitation: {link}\n\n"
        f"The link works once and expires on {expires}. If you did not expect this "
        "invitation, you can ignore this email."
    )
    html = (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">'
        f"<p><strong>{escape(inviter)}</strong> invited you to join "
        f"<strong>{escape(organization)}</strong> on Tenantry as {escape(role)}.</p>"
        f'<p><a href="{escape(link, quote=True)}">Accept the invitation</a></p>'
        f"<p>The link works once and expires on {escape(expires)}. If you did not expect this "
        "invitation, you can ignore this email.</p>"
        f'<p style="color: #666; font-size: small">Or open this address: {escape(link)}</p>'
        "</body></html>"
    )
    return Email(subject, text, html)
