"""Replies as safe Markdown: raw HTML is escaped, unsafe link schemes are dropped (markdown-it's
validateLink), and fenced code is highlighted by Pygments."""
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

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


_md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
_md.enable(["table", "strikethrough"])
_md.add_render_rule("link_open", _link_open)


@lru_cache(maxsize=8192)
def render_markdown(text):
    """HTML for a message; cached, so a long thread renders each message once, not per view."""
    return Markup(_md.render(text))


@lru_cache(maxsize=1)
def highlight_css():
    """Pygments colours for code blocks, light and dark."""
    light = HtmlFormatter(style="default").get_style_defs(".md pre")
    dark = HtmlFormatter(style="monokai").get_style_defs(".md pre")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
