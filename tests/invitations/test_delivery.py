"""Invitation emails over SMTP, against a real SMTP server on a loopback port."""

from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from app.invitations.delivery import SmtpEmailSender
from tests.conftest import borrowed
from tests.support import EMAIL, bearer, created_org, login
from tests.wire.conftest import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def part(message: EmailMessage, subtype: str) -> str:
    """The message's `text/<subtype>` part, decoded."""
    body = message.get_body((subtype,))
    assert body is not None, f"no text/{subtype} part"
    content: str = body.get_content()
    return content


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
async def smtp_client(
    settings: Settings, store: Store, inbox: tuple[Inbox, int]
) -> AsyncIterator[AsyncClient]:
    configured = settings.model_copy(
        update={
            "email_sender": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": inbox[1],
            "smtp_starttls": False,
            "smtp_from": "Tenantry <invites@techcorp.example>",
            "invitation_url_template": "https://app.example.com/join?token={token}",
        }
    )
    app = create_app(configured, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        yield client


async def test_an_invitation_is_emailed_as_text_and_html_naming_who_invites_to_what(
    smtp_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    created = await created_org(smtp_client, name="Tech <Innovations> & Co")
    token = await login(smtp_client)

    response = await smtp_client.post(
        f"/api/v1/organizations/{created['id']}/invitations",
        json={"email": "dev@techcorp.com", "role": "member"},
        headers=bearer(token),
    )

    assert response.status_code == 201
    assert response.json()["email_sent"] is True
    [message] = inbox[0].messages
    assert message["To"] == "dev@techcorp.com"
    assert message["From"] == "Tenantry <invites@techcorp.example>"
    assert message["Subject"] == f"{EMAIL} invited you to join Tech <Innovations> & Co"
    assert message.get_content_type() == "multipart/alternative"
    text, html = part(message, "plain"), part(message, "html")
    assert f"{EMAIL} invited you to join Tech <Innovations> & Co on Tenantry as member" in text
    assert "https://app.example.com/join?token=" in text
    assert "<strong>Tech &lt;Innovations&gt; &amp; Co</strong>" in html
    link = text.split("Accept the invitation: ")[1].split()[0]
    assert f'<a href="{link}">' in html


async def test_a_failed_delivery_keeps_the_invitation(
    smtp_client: AsyncClient, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await created_org(smtp_client)
    token = await login(smtp_client)

    def refuse(self: SmtpEmailSender, message: object) -> None:
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(SmtpEmailSender, "_deliver", refuse)
    response = await smtp_client.post(
        f"/api/v1/organizations/{created['id']}/invitations",
        json={"email": "dev@techcorp.com", "role": "member"},
        headers=bearer(token),
    )

    assert response.status_code == 201
    assert response.json()["email_sent"] is False
    pending = await smtp_client.get(
        f"/api/v1/organizations/{created['id']}/invitations", headers=bearer(token)
    )
    assert pending.json()["total"] == 1


async def test_nobody_joins_a_suspended_organization(
    smtp_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    created = await created_org(smtp_client)
    token = await login(smtp_client)
    await smtp_client.post(
        f"/api/v1/organizations/{created['id']}/invitations",
        json={"email": "dev@techcorp.com", "role": "member"},
        headers=bearer(token),
    )
    text = part(inbox[0].messages[0], "plain")
    link_token = text.split("token=")[1].split()[0]
    await smtp_client.post(f"/api/v1/organizations/{created['id']}/suspend", headers=bearer(token))

    response = await smtp_client.post(
        "/api/v1/invitations/accept", json={"token": link_token, "password": "DevPassword123"}
    )

    assert response.status_code == 423
