"""`GET /accept-invitation`: a page where an invited person joins, for services that have no
front end of their own yet (`INVITATION_URL_TEMPLATE` points here by default; point it at
your product's page instead). The page and its script and styles come from this service; the
script posts the link's token and the password typed to `POST /api/v1/invitations/accept`.
"""

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

_PAGES = files("app.api.pages")
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

router = APIRouter(prefix="/accept-invitation", include_in_schema=False)


def _asset(name: str, media_type: str) -> Response:
    return Response(
        (_PAGES / name).read_bytes(),
        media_type=media_type,
        headers={"Content-Security-Policy": _PAGE_POLICY},
    )


@router.get("")
async def page() -> HTMLResponse:
    page = (_PAGES / "accept.html").read_text()
    return HTMLResponse(page, headers={"Content-Security-Policy": _PAGE_POLICY})


@router.get("/page.js")
async def script() -> Response:
    return _asset("accept.js", "text/javascript; charset=utf-8")


@router.get("/page.css")
async def styles() -> Response:
    return _asset("accept.css", "text/css; charset=utf-8")
