"""The sidebar's date groups as the server renders them (by UTC days, no JavaScript needed):
Today, Yesterday, Previous 7 days, Previous 30 days and Older, with paging kept."""
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from chatapp.day_groups import group_by_day
from chatapp.models import Thread, to_iso

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=timezone.utc)  # the app's clock in these tests
AGES = {  # title: how long before NOW the thread was last updated
    "Asked this afternoon": timedelta(hours=1),
    "Asked yesterday": timedelta(days=1),
    "Asked three days ago": timedelta(days=3),
    "Asked twenty days ago": timedelta(days=20),
    "Asked ninety days ago": timedelta(days=90),
}
EVERY_GROUP = [
    ("heading", "Today"), ("thread", "Asked this afternoon"),
    ("heading", "Yesterday"), ("thread", "Asked yesterday"),
    ("heading", "Previous 7 days"), ("thread", "Asked three days ago"),
    ("heading", "Previous 30 days"), ("thread", "Asked twenty days ago"),
    ("heading", "Older"), ("thread", "Asked ninety days ago"),
]


class SidebarParser(HTMLParser):
    """The sidebar list as ("heading", text) and ("thread", title) in page order, the list's
    data-updated, each heading item's role, and the "Older conversations" link."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.entries, self.heading_roles, self.times, self.next_link = [], [], None, None
        self._in_list = False
        self._reading = None  # "heading" or "thread" while inside one's text

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "ul" and "threads" in classes:
            self._in_list, self.times = True, attrs.get("data-updated")
        elif tag == "a" and "older" in classes and attrs.get("rel") == "next":
            self.next_link = attrs["href"]
        elif self._in_list and tag == "li" and "group" in classes:
            self.heading_roles.append(attrs.get("role"))
        elif self._in_list and tag in ("h2", "a"):
            self._reading = "heading" if tag == "h2" else "thread"
            self.entries.append((self._reading, ""))

    def handle_endtag(self, tag):
        if tag == "ul":
            self._in_list = False
        elif tag in ("h2", "a"):
            self._reading = None

    def handle_data(self, data):
        if self._reading:
            kind, text = self.entries[-1]
            self.entries[-1] = (kind, text + data)


def sidebar_of(client, url="/"):
    response = client.get(url)
    assert response.status_code == 200
    parser = SidebarParser()
    parser.feed(response.get_data(as_text=True))
    return parser


def seed(app, ages):
    """One thread per title, last updated `age` before NOW (each with a question in it)."""
    store = app.extensions["thread_store"]
    for i, (title, age) in enumerate(ages.items()):
        when = to_iso(NOW - age)
        store.create_thread_if_missing(f"g{i:03d}", title, when)
        store.append_message(f"g{i:03d}", "user", title, when)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "THREADS_PER_PAGE": 2}


@pytest.fixture
def app(app):
    app.extensions["chat_service"].clock = lambda: to_iso(NOW)  # a fixed "now" for the page
    return app


def thread(title, updated):
    return Thread(thread_id=title.replace(" ", "-"), title=title, created_at=to_iso(updated),
                  updated_at=to_iso(updated))


# --- the grouping ---------------------------------------------------------------------------------

def test_each_age_lands_under_its_heading_in_order():
    threads = [thread(title, NOW - age) for title, age in AGES.items()]

    groups = group_by_day(threads, to_iso(NOW))

    assert [(heading, [t.title for t in rows]) for heading, rows in groups] == [
        ("Today", ["Asked this afternoon"]), ("Yesterday", ["Asked yesterday"]),
        ("Previous 7 days", ["Asked three days ago"]),
        ("Previous 30 days", ["Asked twenty days ago"]), ("Older", ["Asked ninety days ago"])]


def test_groups_change_at_utc_midnight_not_24_hours_back():
    midnight = NOW.replace(hour=0, minute=0)
    edges = [
        thread("first moment of today", midnight),
        thread("last moment of yesterday", midnight - timedelta(milliseconds=1)),
        thread("first moment of yesterday", midnight - timedelta(days=1)),
        thread("last moment two days ago", midnight - timedelta(days=1, milliseconds=1)),
        thread("first moment seven days back", midnight - timedelta(days=7)),
        thread("just before that", midnight - timedelta(days=7, milliseconds=1)),
        thread("first moment thirty days back", midnight - timedelta(days=30)),
        thread("just before thirty days", midnight - timedelta(days=30, milliseconds=1)),
    ]

    groups = group_by_day(edges, to_iso(NOW))

    assert [(heading, len(rows)) for heading, rows in groups] == [
        ("Today", 1), ("Yesterday", 2), ("Previous 7 days", 2), ("Previous 30 days", 2),
        ("Older", 1)]


def test_only_groups_with_threads_have_a_heading():
    threads = [thread("one", NOW - timedelta(minutes=5)), thread("two", NOW - timedelta(days=400))]

    assert [heading for heading, _ in group_by_day(threads, to_iso(NOW))] == ["Today", "Older"]
    assert group_by_day([], to_iso(NOW)) == []


# --- the page, without JavaScript ----------------------------------------------------------------

def test_the_sidebar_shows_each_thread_under_its_heading_across_pages(app, client):
    seed(app, AGES)

    first = sidebar_of(client)
    second = sidebar_of(client, first.next_link)
    third = sidebar_of(client, second.next_link)

    assert first.entries == EVERY_GROUP[:4]
    assert second.entries == EVERY_GROUP[4:8]
    assert third.entries == EVERY_GROUP[8:]
    assert third.next_link is None


def test_a_page_that_starts_inside_a_group_repeats_its_heading(app, client):
    seed(app, {"Today, newest": timedelta(minutes=1), "Today, older": timedelta(minutes=2),
               "Today, oldest": timedelta(minutes=3), "Long ago": timedelta(days=365)})

    first = sidebar_of(client)
    second = sidebar_of(client, first.next_link)

    assert first.entries == [("heading", "Today"), ("thread", "Today, newest"),
                             ("thread", "Today, older")]
    assert second.entries == [("heading", "Today"), ("thread", "Today, oldest"),
                              ("heading", "Older"), ("thread", "Long ago")]


def test_headings_are_no_list_items_and_the_list_carries_each_rows_time(app, client):
    seed(app, {"Recent": timedelta(hours=2), "Old": timedelta(days=60)})

    page = sidebar_of(client)

    assert page.entries == [("heading", "Today"), ("thread", "Recent"),
                            ("heading", "Older"), ("thread", "Old")]
    assert page.heading_roles == ["presentation", "presentation"]
    # static/groups.js regroups by the reader's days from these, one per row in row order.
    assert page.times.split(" ") == [to_iso(NOW - timedelta(hours=2)),
                                     to_iso(NOW - timedelta(days=60))]


def test_an_empty_sidebar_has_no_headings(client):
    page = sidebar_of(client)

    assert page.entries == []
    assert page.heading_roles == []
    assert page.times == ""
