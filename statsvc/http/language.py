"""The language of a page a person reads (the dashboard, the landing page): the one chosen
with the page's switch (`?lang=`, then kept in the `lang` cookie), else the browser's
Accept-Language, else the instance's STATSVC_LOCALE."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

from aiohttp import web
from yarl import URL

from statsvc import i18n
from statsvc.http.appkeys import SETTINGS
from statsvc.http.cookies import is_https

LANG_COOKIE = "lang"
LANG_SECONDS = 365 * 86400
NAMES = {"vi": "Tiếng Việt", "en": "English"}  # each in its own language, as a switch says it


@dataclass(frozen=True, slots=True)
class Link:
    """The page in one language: the switch's link to it."""

    code: str
    name: str
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class PageLanguage:
    """The page's language (its <html lang>) and the switch's links."""

    code: str
    links: tuple[Link, ...]


_page: ContextVar[PageLanguage] = ContextVar("statsvc_page_language")


def language() -> PageLanguage:
    """Return the language of the page being rendered (the templates' `language()`)."""
    return _page.get()


def page_locale(request: web.Request) -> str:
    """Return the language of the page `request` asks for."""
    for chosen in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in i18n.LOCALES:
            return chosen
    accepted = i18n.negotiate(request.headers.get("Accept-Language", ""))
    return accepted or request.app[SETTINGS].locale


async def get_page(request: web.Request) -> URL | None:
    """Return the page a switch link may open for `request`: itself for a GET; for the reply
    to a form's post (an import's preview, a new token), the nearest page up its path that
    answers a GET (the import form, the token list): a link cannot post the form again. None
    when there is none."""
    if request.method in ("GET", "HEAD"):
        return request.rel_url
    path = request.rel_url.path
    while path.startswith("/") and path != "/":
        match = await request.app.router.resolve(request.clone(method="GET", rel_url=path))
        if match.http_exception is None:
            return URL(path)
        path = path.rsplit("/", 1)[0]
    return None


def enter(request: web.Request, page: URL | None = None) -> Token[str]:
    """Make the page's language the one of the texts that follow, and give the templates
    it and the switch's links (`page`, by default the request's, in each language; no links
    without one)."""
    locale = page_locale(request)
    if page is None and request.method in ("GET", "HEAD"):
        page = request.rel_url
    links = []
    if page is not None:
        for code in i18n.LOCALES:
            query = page.query.copy()
            query["lang"] = code
            url = str(page.with_query(query))
            links.append(Link(code, NAMES[code], url, code == locale))
    _page.set(PageLanguage(locale, tuple(links)))
    return i18n.use(locale)


def leave(token: Token[str]) -> None:
    """Restore the language that was in force before enter()."""
    i18n.reset(token)


def keep(request: web.Request, response: web.StreamResponse) -> None:
    """Keep a language chosen with `?lang=` in a cookie of the whole site (the landing page
    and the dashboard), and say that the page depends on the choice."""
    response.headers["Vary"] = "Accept-Language, Cookie"
    chosen = request.query.get("lang")
    if chosen in i18n.LOCALES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            path="/",
            max_age=LANG_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=is_https(request),
        )
