"""Search in the sidebar: `q` read and checked once for the API and the pages, and the page of
threads to show: the plain list without a search, the threads holding its words with one."""
from .errors import InvalidInput

MAX_QUERY_CHARS = 200


def search_query(raw):
    """The search from a request's `q`, trimmed; None when there is none (or only spaces)."""
    query = (raw or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"The search (q) must be at most {MAX_QUERY_CHARS} characters; "
                           f"this one has {len(query)}.")
    return query or None


def sidebar_page(store, query, limit, cursor=None):
    """A ThreadPage: the threads holding every word of `query`, or all of them without one;
    newest update first either way, paged by the same cursors."""
    if query is None:
        return store.list_threads(limit, cursor)
    return store.search_threads(query, limit, cursor)
