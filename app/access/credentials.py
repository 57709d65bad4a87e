"""The shapes credentials must have wherever a request carries them."""

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field

from app.access.passwords import password_problem


def _check_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(f"password {problem}")
    return value


Password = Annotated[
    str,
    Field(max_length=1024, description="8 to 72 bytes in UTF-8.", examples=["SecurePassword123"]),
    AfterValidator(_check_password),
]
Email = Annotated[EmailStr, Field(examples=["admin@techcorp.com"])]
