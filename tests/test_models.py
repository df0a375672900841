"""How times are kept: the API's ISO 8601 text, in UTC, to the millisecond."""
import re
from datetime import datetime, timedelta, timezone

from chatapp.models import from_iso, to_iso, utc_now

ISO_UTC_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_a_time_from_any_zone_is_kept_as_utc_to_the_millisecond():
    in_india = datetime(2024, 3, 1, 17, 30, 1, 456789, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    assert to_iso(in_india) == "2024-03-01T12:00:01.456Z"
    assert from_iso("2024-03-01T12:00:01.456Z") == in_india.replace(microsecond=456000)


def test_now_has_the_same_fixed_width_form_so_text_order_is_time_order():
    earlier = to_iso(datetime(2024, 3, 1, 9, 59, 59, 999000, tzinfo=timezone.utc))
    now = utc_now()

    assert re.fullmatch(ISO_UTC_MS, now)
    assert earlier < "2024-03-01T10:00:00.000Z" < now
    assert to_iso(datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)) == "2024-03-01T10:00:00.000Z"
