"""Makes the README's screenshots: `.venv/bin/python docs/screenshots.py` (after `make test` has
installed Chromium and the dev requirements). The app runs on a temporary SQLite file with the
fake model behind it, which answers the questions below; nothing leaves 127.0.0.1."""
import os
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from playwright.sync_api import sync_playwright  # noqa: E402

from chatapp import create_app  # noqa: E402
from tests.fake_openai import FakeOpenAI, answer, stream_of  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REPLIES = {
    "CRDTs explained simply?": "A CRDT is a data type that merges concurrent edits without conflicts.",
    "Plan a weekend in Lisbon": "Day one: Alfama and the castle. Day two: Belém and the river.",
    "How do I count the words in a big text file in Python?": textwrap.dedent("""\
        You can read a file line by line with a `with` block, which closes it for you:

        ```python
        from pathlib import Path

        def count_words(path: Path) -> int:
            total = 0
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    total += len(line.split())
            return total
        ```

        `Path.open` takes the same arguments as `open`, and iterating over the file reads one
        line at a time, so even a large file never sits in memory whole."""),
    "And if some lines are not valid UTF-8?": textwrap.dedent("""\
        Pass `errors="replace"` to `open`: each bad byte becomes U+FFFD and the count goes on.
        If you would rather know where they are, keep the default (`strict`), catch
        `UnicodeDecodeError`, and note the line number before you go on reading the rest of
        the file with a fresh decoder."""),
}


def model(request_json):
    question = request_json["messages"][-1]["content"]
    text = REPLIES.get(question, f"Echo: {question}")
    if request_json.get("stream") and question.startswith("And if"):
        return 200, stream_of(text, delay=0.08)  # slow enough to be caught mid-reply
    return answer(request_json, text)


def main():
    folder = tempfile.mkdtemp(prefix="chatapp-shots-")
    fake = FakeOpenAI().start()
    fake.respond(model)
    app = create_app({"SECRET_KEY": "shots", "SQLITE_PATH": os.path.join(folder, "chat.sqlite3"),
                      "OPENAI_API_KEY": "sk-shots", "OPENAI_BASE_URL": fake.url,
                      "MONGO_URI": None, "TITLE_GENERATION": False}, instance_path=os.path.join(folder, "instance"))
    with LiveServer(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get(
            "CHROMIUM_PATH", "/usr/bin/chromium"), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=server.url, viewport={"width": 1280, "height": 820})
        for question in list(REPLIES)[:3]:
            page.goto("/")
            ask(page, question)
        page.fill("#message", "And if some lines are not valid UTF-8?")
        page.keyboard.press("Enter")
        page.locator("article.streaming .md").filter(has_text="U+FFFD").wait_for()
        page.wait_for_timeout(400)
        page.screenshot(path=os.path.join(ROOT, "docs", "screenshot.png"))
        page.keyboard.press("Escape")  # stopped midway: the phone shot shows it cut short
        page.get_by_text("Stopped: this reply was cut short.").wait_for()
        url = page.url
        # The server keeps the cut-short reply when its next write finds the page gone.
        thread_api = url.replace("/thread/", "/api/thread/")
        while len(page.request.get(thread_api).json()) < 4:
            page.wait_for_timeout(50)
        phone = browser.new_page(base_url=server.url, viewport={"width": 390, "height": 844},
                                 color_scheme="dark", device_scale_factor=2)
        phone.goto(url)
        phone.wait_for_timeout(300)
        phone.screenshot(path=os.path.join(ROOT, "docs", "screenshot-phone.png"))
        browser.close()
    fake.stop()
    print("Wrote docs/screenshot.png and docs/screenshot-phone.png")


def ask(page, question):
    page.fill("#message", question)
    page.keyboard.press("Enter")
    page.locator("#messages [data-role=assistant]:not(.streaming) time").last.wait_for()


if __name__ == "__main__":
    main()
