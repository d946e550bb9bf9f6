"""The page's fixed strings in the student's language. index.html marks each element with the
catalogue key it shows: data-i18n for its text, data-i18n-aria for its aria-label. The English
text stays in the HTML: it is what shows before Python has loaded."""

from __future__ import annotations

import js  # Pyodide only

from pyexplainer.messages import text

ATTRIBUTES = {"data-i18n-aria": "aria-label"}  # marker -> the attribute it fills
LOCALE_KEY = "pyexplainer.locale"  # where the browser remembers the chosen language


def translate_page(document, locale: str) -> None:
    """Every marked string of `document` (its <title> included) and <html lang> in `locale`."""
    for node in document.querySelectorAll("[data-i18n]"):
        node.textContent = text(node.getAttribute("data-i18n"), locale)
    for marker, attribute in ATTRIBUTES.items():
        for node in document.querySelectorAll(f"[{marker}]"):
            node.setAttribute(attribute, text(node.getAttribute(marker), locale))
    document.documentElement.lang = locale


def remembered_locale() -> str | None:
    try:
        return js.localStorage.getItem(LOCALE_KEY)  # None when nothing was chosen yet
    except Exception:  # storage blocked (a sandboxed iframe, some private modes)
        return None


def remember_locale(locale: str) -> None:
    try:
        js.localStorage.setItem(LOCALE_KEY, locale)
    except Exception:  # storage blocked: the choice lasts for this visit only
        pass


def browser_languages() -> list[str]:
    return [str(language) for language in js.navigator.languages] or [str(js.navigator.language)]
