"""The sidebar's date groups: Today, Yesterday, Previous 7 days, Previous 30 days, Older.

The server groups by UTC days, as it does not know the reader's time zone; static/app.js groups
the same rows again by the reader's own days, from each row's `data-updated`, with the same
headings and boundaries. Times are the app's ISO text (see chatapp.models), whose text order is
time order, so placing a row is a string comparison: no date is parsed per row.
"""
from datetime import timedelta

from .models import from_iso, to_iso

# Each heading with the number of whole days before the start of today at which its group starts.
# "Previous 7 days" holds the days before yesterday back to midnight seven days ago, and so on.
GROUPS = (("Today", 0), ("Yesterday", 1), ("Previous 7 days", 7), ("Previous 30 days", 30))
OLDER = "Older"


def group_starts(now):
    """[(heading, the app time its group starts)], newest group first, for UTC days at `now`."""
    midnight = from_iso(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(heading, to_iso(midnight - timedelta(days=days))) for heading, days in GROUPS]


def group_by_day(threads, now):
    """[(heading, [Thread])] for threads listed newest first, keeping their order. A page that
    starts in the middle of a group starts with that group's heading again."""
    starts = group_starts(now)
    groups = []
    for thread in threads:
        heading = next((name for name, start in starts if thread.updated_at >= start), OLDER)
        if not groups or groups[-1][0] != heading:
            groups.append((heading, []))
        groups[-1][1].append(thread)
    return groups
