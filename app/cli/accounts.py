"""`accounts create-owner` and `accounts reset-password`."""

from typing import Annotated

import typer

from app.cli.display import plain
from app.cli.runtime import JsonOption, Session, emit_json, out, run_with_store, warn
from app.operations.accounts import OwnerOutcome, PasswordSource, make_owner, reset_password

app = typer.Typer(
    help="Owners and passwords, for when nobody can log in to fix them.",
    rich_markup_mode="markdown",
)

PasswordOption = Annotated[
    str | None,
    typer.Option(
        help="The password; asked for (hidden, twice) when omitted. Beware: a password on the "
        "command line lands in the shell history.",
    ),
]


@app.command("create-owner")
def create_owner_command(
    ctx: typer.Context,
    organization: Annotated[
        str, typer.Argument(metavar="ORG", help="Organization name or 24-hex id.")
    ],
    email: Annotated[str, typer.Argument(help="The account to make an owner.")],
    password: PasswordOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make EMAIL an owner of ORG, creating the account if there is none.

    A new account needs a password; an existing one keeps its own.
    """

    async def work(session: Session) -> OwnerOutcome:
        return await make_owner(
            session.store, session.settings, organization, email, _password_source(password)
        )

    outcome = run_with_store(ctx, work)
    if password is not None and not outcome.account_created:
        warn(
            "Note: the account existed, so --password was not used; its password is unchanged "
            "(accounts reset-password changes it)."
        )
    if as_json:
        previous = outcome.previous_role
        emit_json(
            {
                "email": outcome.email,
                "organization": outcome.organization,
                "account_created": outcome.account_created,
                "previous_role": None if previous is None else previous,
                "role": "owner",
            }
        )
        return
    if outcome.account_created:
        what = "created and made owner"
    elif outcome.previous_role is None:
        what = "added as owner"
    elif outcome.previous_role == "owner":
        what = "was already an owner; nothing changed"
    else:
        what = f"promoted from {outcome.previous_role} to owner"
    out().print(plain(f"{outcome.email}: {what} of {outcome.organization}"))


@app.command("reset-password")
def reset_password_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The account's email.")],
    password: PasswordOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give EMAIL a new password. Every token issued to it before stops working."""

    async def work(session: Session) -> str:
        return await reset_password(
            session.store, session.settings, email, _password_source(password)
        )

    changed = run_with_store(ctx, work)
    if as_json:
        emit_json({"email": changed, "password_changed": True, "earlier_tokens_refused": True})
        return
    out().print(plain(f"{changed}: password changed; earlier tokens are refused from now on"))


def _password_source(given: str | None) -> PasswordSource:
    def source() -> str:
        if given is not None:
            return given
        entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return entered

    return source
