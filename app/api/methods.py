"""Which methods a path answers, for the `Allow` header of a 405 and of an OPTIONS answer.

Starlette's router stops at the first route whose path matches and answers a 405 with that
route's methods alone, while a path usually has one route per method. RFC 9110 wants the
`Allow` of a 405 to list every method the target resource supports (§15.5.6), so the list
is gathered from every route here. OPTIONS is answered for every path that exists, with
`204` and the same `Allow` (§9.3.7); a CORS preflight never gets this far when CORS is on,
since the CORS middleware answers it.
"""

from starlette.requests import Request
from starlette.routing import Match

# Methods a route may declare; OPTIONS is answered for every path, HEAD only where declared.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route serves at the request's path, OPTIONS included; empty when no
    route has that path.

    Each method is tried against the router's routes with a fresh scope (only what matching
    reads), so nothing the first routing left in the request's scope steers the answer, and
    routers included in others are asked through their own `matches`.
    """
    routes = request.app.router.routes
    found = []
    for method in _METHODS:
        probe = {
            "type": "http",
            "method": method,
            "path": request.scope["path"],
            "root_path": request.scope.get("root_path", ""),
            "headers": [],
            "query_string": b"",
        }
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            found.append(method)
    return [*found, "OPTIONS"] if found else []


def allow_header(methods: list[str]) -> dict[str, str]:
    return {"Allow": ", ".join(methods)}
