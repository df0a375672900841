"""GET /api/thread?q=...: search over titles and message text, in the list's shape and paging;
and the same search in the page's sidebar, without a browser (tests/test_browser_search.py
drives it in Chromium)."""
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import conversation, seed_threads, stepping_clock
from tests.test_api import assert_json_error, path_of



def ids(response):
    assert response.status_code == 200, response.data
    return [thread["threadId"] for thread in response.get_json()]


def test_search_finds_threads_by_title_and_by_messages_newest_first(app, client):
    conversation(app, "rome", "Trip to Rome", "Where to stay?", minute=0)
    conversation(app, "pasta", "Dinner", "Pasta near the Pantheon in Rome?", minute=1)
    conversation(app, "paris", "Paris", "Croissants?", minute=2)

    assert ids(client.get("/api/thread?q=rome")) == ["pasta", "rome"]
    assert ids(client.get("/api/thread?q=Pantheon%20ROME")) == ["pasta"]
    assert ids(client.get("/api/thread?q=berlin")) == []


def test_search_answers_in_the_lists_shape(app, client):
    conversation(app, "t1", "Garden", "tomatoes")

    found = client.get("/api/thread?q=tomatoes").get_json()

    assert found == client.get("/api/thread").get_json()
    assert set(found[0]) == {"threadId", "title", "createdAt", "updatedAt"}


def test_a_reply_from_the_model_is_searchable_at_once(app, client, fake_openai):
    stepping_clock(app)
    fake_openai.reply_with("Try sourdough with a long proof.")
    thread_id = client.post("/api/chat", json={"message": "Bread ideas?"}).get_json()["threadId"]

    assert ids(client.get("/api/thread?q=sourdough%20bread")) == [thread_id]


def test_the_query_is_trimmed(app, client):
    conversation(app, "t1", "Garden", "tomatoes")

    assert ids(client.get("/api/thread?q=%20%20tomatoes%09%20")) == ["t1"]


@pytest.mark.parametrize("query", ["", "%20", "%20%20%09"])
def test_a_blank_query_is_the_plain_list_exactly(app, client, query):
    seed_threads(app, 4)

    searched = client.get(f"/api/thread?limit=3&q={query}")
    plain = client.get("/api/thread?limit=3")

    assert searched.get_json() == plain.get_json()
    assert searched.headers["Link"] == plain.headers["Link"]  # no q in it: the plain list's


def test_a_query_of_200_characters_is_taken_and_201_refused_naming_the_limit(app, client):
    conversation(app, "t1", "Garden", "tomatoes " + "x" * 191)

    assert ids(client.get("/api/thread?q=tomatoes%20" + "x" * 191)) == ["t1"]  # 200 in all
    error = assert_json_error(client.get("/api/thread?q=" + "x" * 201), 400, "bad_request")
    assert "200 characters" in error["message"]
    # Trimmed first: spaces around do not count.
    assert ids(client.get("/api/thread?q=%20" + "x" * 200 + "%20")) == []


@pytest.mark.parametrize("query", [
    "%22", "%22%22", "*", "a*", "-tomatoes", "NOT%20tomatoes", "tomatoes%20OR", "NEAR(a%20b)",
    "title:tomatoes", "%7Bbody%7D:x", "%5E", "(", ")", "%27", "%3A", "%5C", "%00", "%F0%9F%98%80",
    "%25", "_", "%E2%80%AE",
])
def test_search_syntax_in_the_query_is_never_an_error(app, client, query):
    conversation(app, "t1", "Garden", "tomatoes and NOT peppers")

    response = client.get(f"/api/thread?q={query}")

    assert response.status_code == 200 and isinstance(response.get_json(), list)


def test_results_page_with_link_next_keeping_q_and_limit(app, client):
    for n in range(7):
        conversation(app, f"hit{n}", f"Match {n}", "common words", minute=2 * n)
        conversation(app, f"miss{n}", f"Other {n}", "different words", minute=2 * n + 1)

    seen, url = [], "/api/thread?q=match&limit=3"
    while url:
        response = client.get(url)
        seen += ids(response)
        url = path_of(response.headers["Link"]) if "Link" in response.headers else None
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["q"] == ["match"] and query["limit"] == ["3"]

    assert seen == [f"hit{n}" for n in reversed(range(7))]


@pytest.mark.parametrize("limit", ["0", "101", "abc"])
def test_search_with_a_bad_limit_is_400(client, limit):
    assert_json_error(client.get(f"/api/thread?q=x&limit={limit}"), 400)


def test_search_with_a_bad_cursor_is_400(client):
    assert_json_error(client.get("/api/thread?q=x&cursor=%25%25not-a-cursor"), 400)


def test_a_deleted_or_renamed_thread_is_searched_as_it_is_now(app, client):
    conversation(app, "gone", "Lemons", "lemon tart")
    conversation(app, "named", "Limes", "lemon curd", minute=1)

    client.delete("/api/thread/gone")
    app.extensions["thread_store"].rename_thread("named", "Citrus")

    assert ids(client.get("/api/thread?q=lemon")) == ["named"]
    assert ids(client.get("/api/thread?q=citrus")) == ["named"]
    assert ids(client.get("/api/thread?q=limes")) == []


# --- the page's sidebar (the browser tests drive the same in Chromium) -------------------------

def test_the_page_searches_in_the_sidebar_keeping_the_open_thread(app, client):
    conversation(app, "rome", "Trip to Rome", "Where to stay?", minute=0)
    conversation(app, "paris", "Paris", "Croissants?", minute=1)

    page = client.get("/thread/paris?q=rome").get_data(as_text=True)

    assert 'href="/thread/rome?q=rome"' in page and "/thread/paris?q=rome" not in page
    assert 'value="rome"' in page and "Clear search" in page
    assert "Croissants?" in page  # the open conversation is still shown


def test_the_page_says_when_nothing_matches(client):
    page = client.get("/?q=nothing").get_data(as_text=True)

    assert "No conversations match." in page and "No conversations yet." not in page


def test_the_pages_older_link_keeps_the_search(app, client):
    app.config["THREADS_PER_PAGE"] = 2
    for n in range(3):
        conversation(app, f"t{n}", f"Match {n}", minute=n)

    first = client.get("/?q=match").get_data(as_text=True)
    older = first.split('class="older" rel="next" href="')[1].split('"')[0].replace("&amp;", "&")

    assert parse_qs(urlsplit(older).query)["q"] == ["match"]
    second = client.get(older).get_data(as_text=True)
    assert "/thread/t0?q=match" in second and "/thread/t2?q=match" not in second
    assert 'href="/?q=match"' in second  # back to the newest results


def test_a_too_long_search_on_the_page_says_so_over_the_plain_list(app, client):
    conversation(app, "t1", "Garden")

    response = client.get("/?q=" + "x" * 201)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "at most 200 characters" in page and 'href="/thread/t1"' in page
