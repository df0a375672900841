"""The rendered-Markdown cache is bounded by the memory its entries take, not by their number:
thousands of very long replies leave the process's resident memory flat."""
import gc
import re

import pytest

from chatapp import markdown
from chatapp.markdown import render_markdown
from chatapp.sized_cache import SizedCache

# About 100 kB of plain prose in paragraphs: a very long reply that renders quickly (emphasis
# and code spans on every line would make the 3,000 take minutes).
LONG_REPLY_BODY = ("The quick brown fox jumps over the lazy dog once again. " * 18 + "\n\n") * 100


def resident_bytes():
    gc.collect()
    with open("/proc/self/status") as status:
        kilobytes = re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.MULTILINE).group(1)
    return int(kilobytes) * 1024


@pytest.fixture
def fresh_cache(monkeypatch):
    """The app's cache at its real budget, emptied, so earlier tests' entries do not count."""
    cache = SizedCache(markdown.RENDERED_CACHE_BYTES)
    monkeypatch.setattr(markdown, "_rendered", cache)
    return cache


def test_a_reply_seen_again_is_not_rendered_again(fresh_cache):
    first = render_markdown("Some **bold** reply")
    assert first == "<p>Some <strong>bold</strong> reply</p>\n"
    assert render_markdown("Some **bold** reply") is first


def test_resident_memory_stays_flat_over_thousands_of_very_long_replies(fresh_cache):
    levels = {}
    for n in range(3000):
        html = render_markdown(f"Reply {n}\n\n{LONG_REPLY_BODY}")
        if n % 300 == 299:
            levels[n + 1] = resident_bytes()
    assert html.startswith(f"<p>Reply {n}</p>")

    settled = levels[300]  # by now the cache is full: every reply after evicts older ones
    growth_mb = {count: (rss - settled) / 2**20 for count, rss in levels.items()}
    # 2,700 more replies of ~200 kB (text and HTML) would be ~540 MB if they were kept.
    assert max(growth_mb.values()) < 16, growth_mb
    assert fresh_cache.bytes_held <= markdown.RENDERED_CACHE_BYTES


def test_a_reply_bigger_than_the_whole_cache_is_rendered_but_not_kept(monkeypatch):
    small = SizedCache(budget_bytes=50_000)
    monkeypatch.setattr(markdown, "_rendered", small)
    short = render_markdown("a short one")
    held = small.bytes_held
    html = render_markdown("word " * 20_000)
    assert html.startswith("<p>word word") and len(html) > 100_000
    assert small.bytes_held == held  # nothing added, and nothing pushed out for it
    assert render_markdown("a short one") is short


def test_the_least_recently_used_reply_is_evicted_first():
    cache = SizedCache(budget_bytes=3 * (2 * 1_049 + 200))  # three keys and values of 1,000 chars
    for name in "abc":
        cache.put(name * 1000, name.upper() * 1000)
    assert cache.get("a" * 1000) == "A" * 1000  # a is now the most recently used
    cache.put("d" * 1000, "D" * 1000)
    assert cache.get("b" * 1000) is None
    assert [cache.get(name * 1000) for name in "acd"] == ["A" * 1000, "C" * 1000, "D" * 1000]
    assert cache.bytes_held <= cache.budget_bytes


def test_the_budget_counts_sizes_so_long_entries_push_out_many_short_ones():
    cache = SizedCache(budget_bytes=100_000)
    for n in range(100):
        cache.put(f"short {n}", f"<p>short {n}</p>")
    assert len(cache) == 100
    cache.put("long", "x" * 90_000)
    assert cache.get("long") is not None
    assert len(cache) < 40 and cache.bytes_held <= 100_000


def test_storing_a_key_again_replaces_it_without_counting_it_twice():
    cache = SizedCache(budget_bytes=10_000)
    cache.put("k", "v" * 1000)
    held = cache.bytes_held
    cache.put("k", "v" * 1000)
    assert cache.bytes_held == held and len(cache) == 1
