"""Invitation emails caught instead of sent (see the `outbox` fixture of `tests/conftest.py`)."""

import re
from dataclasses import dataclass

TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_-]+)")


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str  # the plain-text part
    html: str


class Outbox:
    """An `EmailSender` that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    async def send(self, to: str, subject: str, text: str, html: str) -> None:
        self.sent.append(Email(to, subject, text, html))

    def tokens_for(self, to: str) -> list[str]:
        """The invitation tokens emailed to `to`, oldest first."""
        found = []
        for email in self.sent:
            if email.to == to:
                match = TOKEN_IN_LINK.search(email.body)
                assert match, email.body
                found.append(match.group(1))
        return found

    def last_token_for(self, to: str) -> str:
        return self.tokens_for(to)[-1]
