"""What a chat page must show after hostile content, checked in the browser in one pass:
`page_problems(page)` lists every way it falls short, [] when it holds. Nothing ran (no
`window.__pwned`); the messages hold only the elements safe Markdown makes, with no handler, no
address but http(s), mailto or the site's own; the rest of the page holds only what its
templates put there; and the layout holds (nothing wider than the viewport, the chat pane and
composer on screen, wide content scrolling inside its own box). For pages no browser opens,
`markup_problems(html)` checks the markup alone, as a browser's parser would read it."""
from html.parser import HTMLParser

# Elements no template makes, nor Markdown: from a payload, if ever found.
NEVER_IN_A_PAGE = ["iframe", "frame", "object", "embed", "base", "math", "marquee", "details",
                   "style", "link", "meta"]  # style, link and meta: in the body

PAGE_PROBLEMS = """never => {
  const problems = [];
  const note = (what, el) => problems.push(el ? `${what}: ${el.outerHTML.slice(0, 100)}` : what);
  if (typeof window.__pwned !== 'undefined') note('a payload ran: window.__pwned is set');

  // What safe Markdown (chatapp/markdown.py, Pygments) and app.js make inside a message.
  const SAFE = new Set(['DIV', 'P', 'A', 'IMG', 'CODE', 'PRE', 'EM', 'STRONG', 'DEL', 'S', 'H1',
    'H2', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'HR', 'BR', 'TABLE', 'THEAD',
    'TBODY', 'TR', 'TH', 'TD', 'SPAN', 'BUTTON']);
  const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);
  for (const el of document.querySelectorAll('#messages .bubble *')) {
    if (!SAFE.has(el.tagName)) note('an element Markdown never makes', el);
    if (el.tagName === 'BUTTON' && !el.classList.contains('copy-button')) note('a button', el);
    const style = el.getAttribute('style');
    if (style && !/^text-align:\\s*(left|right|center);?$/.test(style)) note('a style', el);
    for (const name of ['href', 'src']) {
      const value = el.getAttribute(name);
      if (value !== null && !SAFE_SCHEMES.has(new URL(value, location.href).protocol))
        note(`an unsafe ${name}`, el);
    }
  }
  // Outside the messages: only the templates' own scripts, and no frame, object or base.
  for (const el of document.querySelectorAll('script')) {
    const src = new URL(el.getAttribute('src') || '', location.href).href;
    if (!el.hasAttribute('src') || !src.startsWith(location.origin + '/static/'))
      note('a script', el);
  }
  for (const el of document.body.querySelectorAll(never.join(', ')))
    note('an element no template makes', el);
  for (const el of document.querySelectorAll('*')) {
    const handler = [...el.attributes].find((a) => a.name.startsWith('on'));
    if (handler) note(`an event handler (${handler.name})`, el);
  }

  // The layout: the page never scrolls sideways, nor does the message pane; the chat pane and
  // the composer stay on screen; wide content stays within its message.
  const width = innerWidth, height = innerHeight;
  for (const el of [document.documentElement, document.body]) {
    if (el.scrollWidth > width) note(`the page is ${el.scrollWidth}px wide in ${width}px`);
  }
  const pane = document.getElementById('messages');
  if (!pane) return problems.concat('the message pane is gone');
  if (pane.scrollWidth > pane.clientWidth + 1) note('the message pane scrolls sideways', pane);
  const inside = (el, box, what) => {
    const r = el.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1) note(what, el);
  };
  const screen = {left: 0, right: width};
  for (const selector of ['main.chat', 'form.composer', '.composer textarea', '.send-button']) {
    const el = document.querySelector(selector);
    if (!el) { note(`${selector} is gone`); continue; }
    const r = el.getBoundingClientRect();
    inside(el, screen, 'off screen sideways');
    if (r.top < 0 || r.bottom > height || r.height < 1) note('off screen', el);
  }
  const paneBox = pane.getBoundingClientRect();
  // Within a message, what a box scrolling sideways holds may be wider: the box is checked.
  const scrolls = (el) => getComputedStyle(el).overflowX !== 'visible';
  const inScrollBox = (el, bubble) => {
    for (let up = el.parentElement; up && up !== bubble; up = up.parentElement)
      if (scrolls(up)) return true;
    return false;
  };
  for (const bubble of pane.querySelectorAll('.bubble')) {
    inside(bubble, paneBox, 'a message wider than its pane');
    const box = bubble.getBoundingClientRect();
    for (const el of bubble.querySelectorAll('*'))
      if (!inScrollBox(el, bubble)) inside(el, box, 'wider than its message');
  }
  const sidebar = document.querySelector('aside.sidebar');
  if (sidebar && sidebar.scrollWidth > sidebar.clientWidth + 1)
    note('the sidebar scrolls sideways', sidebar);
  for (const el of document.querySelectorAll('.topbar, .topbar-title')) {
    if (el.getClientRects().length) inside(el, screen, 'off screen sideways');
  }
  return problems;
}"""


def page_problems(page):
    return page.evaluate(PAGE_PROBLEMS, NEVER_IN_A_PAGE)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.in_body = False

    def handle_starttag(self, tag, attrs):
        self.in_body = self.in_body or tag == "body"
        names = dict(attrs)
        if tag == "script" and not (names.get("src") or "").startswith("/static/"):
            self.problems.append(f"a script: {self.get_starttag_text()[:80]}")
        if tag in NEVER_IN_A_PAGE and self.in_body:
            self.problems.append(f"an element no template makes: {self.get_starttag_text()[:80]}")
        if any(name.startswith("on") for name in names):
            self.problems.append(f"an event handler: {self.get_starttag_text()[:80]}")


def markup_problems(html):
    """What page_problems says of elements, for the page's HTML as sent."""
    tags = _Tags()
    tags.feed(html)
    tags.close()
    return tags.problems
