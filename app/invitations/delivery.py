"""How invitation emails leave the service: written to the log, or sent over SMTP as plain
text with an HTML alternative."""

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

import anyio

from app.config import Settings

logger = logging.getLogger(__name__)


class EmailSender(Protocol):
    async def send(self, to: str, subject: str, text: str, html: str) -> None: ...


class LogEmailSender:
    """For development: the email (its text part), invitation link included, goes to the
    service log."""

    async def send(self, to: str, subject: str, text: str, html: str) -> None:
        logger.info("email to %s: %s\n%s", to, subject, text)


class SmtpEmailSender:
    """Standard-library SMTP, run in a worker thread so the event loop never waits on it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, to: str, subject: str, text: str, html: str) -> None:
        message = EmailMessage()
        message["From"] = self._settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        await anyio.to_thread.run_sync(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)


def build_sender(settings: Settings) -> EmailSender:
    if settings.email_sender == "smtp":
        return SmtpEmailSender(settings)
    logger.warning(
        "EMAIL_SENDER=log: invitation emails, links included, are written to this log "
        "instead of being sent. Set EMAIL_SENDER=smtp for real use."
    )
    return LogEmailSender()
