"""The versioned API, `/api/v1`: a module per feature."""

from fastapi import APIRouter

from app.api.v1 import (
    admin,
    api_keys,
    audit,
    auth,
    billing,
    documents,
    domains,
    events,
    invitations,
    members,
    organizations,
    roles,
    webhooks,
    workspaces,
)

# Requests are matched against one router after another, in this order: the busiest first.
routers: tuple[APIRouter, ...] = (
    documents.router,
    auth.router,
    # Before `organizations.router`, whose `/{org_id}` would take `/joinable`.
    domains.joining_router,
    organizations.router,
    members.router,
    billing.router,
    audit.router,
    workspaces.router,
    invitations.organization_router,
    invitations.router,
    roles.permissions_router,
    roles.router,
    api_keys.router,
    admin.router,
    events.router,
    events.catalogue_router,
    webhooks.router,
    domains.router,
)
