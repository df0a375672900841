"""Replies as safe Markdown: raw HTML is escaped, unsafe link schemes are dropped (markdown-it's
validateLink, and every data: address too), and fenced code is highlighted by Pygments. Each is
rendered once and kept in a cache bounded by bytes, however long the replies."""
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import validateLink
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .sized_cache import SizedCache

CODE_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight(code, lang, _attrs):
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    # An empty string tells markdown-it to escape the code itself.
    return highlight(code, lexer, CODE_FORMATTER) if lexer else ""


def _link_open(renderer, tokens, idx, options, env):
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return renderer.renderToken(tokens, idx, options, env)


def _safe_link(url):
    # markdown-it lets data:image/png and the like through; a reply's link or image never
    # needs one, and a picture drawn by the reply's own text could pass for part of the page.
    return validateLink(url) and not url.strip().lower().startswith("data:")


_md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
_md.validateLink = _safe_link
_md.enable(["table", "strikethrough"])
_md.add_render_rule("link_open", _link_open)


# In bytes of text and HTML. A 2,000-message thread of typical replies takes about 3 MB, so
# several long threads stay warm; however long the replies stored, it never holds more.
RENDERED_CACHE_BYTES = 32 * 1024 * 1024
_rendered = SizedCache(RENDERED_CACHE_BYTES)


def render_markdown(text):
    """HTML for a message; cached, so a long thread renders each message once, not per view."""
    html = _rendered.get(text)
    if html is None:
        html = Markup(_md.render(text))
        _rendered.put(text, html)
    return html


@lru_cache(maxsize=1)
def highlight_css():
    """Pygments colours for code blocks, light and dark."""
    light = HtmlFormatter(style="default").get_style_defs(".md pre")
    dark = HtmlFormatter(style="monokai").get_style_defs(".md pre")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
