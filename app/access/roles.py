"""The roles an account can hold in an organization: five built in (see the roles table in
`permissions`), and the organization's own custom roles, named by a slug.

A role is stored by name (a membership's, an invitation's, an API key's `role`): a built-in
role's value, or a custom role's slug, which is never a built-in name.
"""

import re
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    BILLING_ADMIN = "billing_admin"
    MEMBER = "member"
    VIEWER = "viewer"


# A role as stored and sent: a built-in role's value or a custom role's slug.
RoleName = str

# Lower-case ASCII, digits, `_` and `-`, starting with a letter: safe in a URL path, in a
# document `_id` (`<organization>:<slug>`) and in a shell.
ROLE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
ROLE_NAME_MAX_LENGTH = 40
_ROLE_NAME = re.compile(ROLE_NAME_PATTERN)


def builtin_role(name: RoleName) -> Role | None:
    """The built-in role called `name`, or None for a custom role's slug."""
    try:
        return Role(name)
    except ValueError:
        return None


def is_role_name(value: str) -> bool:
    return _ROLE_NAME.fullmatch(value) is not None
