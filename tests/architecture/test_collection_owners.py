"""Each master-database collection is queried by exactly one repository module.

Names and indexes are declared in `app/db/schema.py`; any other module that names a
collection, by its constant or by a literal `master["..."]`, is where its queries live. Two
such modules for one collection is how twins (two `exists`, two owner counts) come about.
"""

import ast
from collections import defaultdict
from pathlib import Path

import app
from app.db import schema

APP = Path(app.__file__).parent
SCHEMA = Path(schema.__file__)
COLLECTIONS = {
    name: value for name, value in vars(schema).items() if name.isupper() and isinstance(value, str)
}


# A module that names another's collection only to join it into its own (`$lookup`, read
# only), with why the join is worth the exception.
JOINS = {
    ("app.registry.claims", "organizations"): (
        "recovery's sweep answers only the claims no entry accounts for, in one aggregation"
    ),
    **{
        ("app.accounts.memberships", joined): (
            "a bearer token's check reads its membership with everything around it in one "
            "round trip, each join on the joined collection's _id"
        )
        for joined in (
            "accounts",
            "organizations",
            "revoked_tokens",
            "workspaces",
            "workspace_members",
            "roles",
        )
    },
    **{
        ("app.accounts.repository", joined): (
            "a login reads the account, its memberships with their organizations and the "
            "trust in its address in one round trip"
        )
        for joined in ("memberships", "organizations", "login_trusted_addresses")
    },
    **{
        ("app.apikeys.repository", joined): (
            "an API key's check reads the key with its organization, workspace and custom role in "
            "one round trip"
        )
        for joined in ("organizations", "workspaces", "roles")
    },
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(APP.parent).with_suffix("").parts)


def _collections_named_in(tree: ast.AST) -> set[str]:
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "app.db.schema":
            named.update(COLLECTIONS[a.name] for a in node.names if a.name in COLLECTIONS)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "master"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            named.add(node.slice.value)
    return named


def collection_users() -> dict[str, set[str]]:
    users: dict[str, set[str]] = defaultdict(set)
    for path in APP.rglob("*.py"):
        if path == SCHEMA:
            continue
        module = _module(path)
        for collection in _collections_named_in(ast.parse(path.read_text())):
            if (module, collection) not in JOINS:
                users[collection].add(module)
    return users


def test_every_collection_has_exactly_one_repository_module() -> None:
    users = collection_users()

    shared = {name: sorted(modules) for name, modules in users.items() if len(modules) > 1}
    assert not shared, f"collections queried from more than one module: {shared}"
    unowned = set(COLLECTIONS.values()) - set(users)
    assert not unowned, f"collections no module queries: {sorted(unowned)}"


def test_the_check_sees_a_second_module_naming_a_collection() -> None:
    rogue = ast.parse(
        "from app.db.schema import ORGANIZATIONS\n"
        "async def peek(store):\n"
        '    return await store.master["accounts"].find_one({})\n'
    )

    assert _collections_named_in(rogue) == {"organizations", "accounts"}
