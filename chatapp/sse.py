"""Server-sent events both ways: reading an upstream's stream as servers really send it, and
writing our own. https://html.spec.whatwg.org/multipage/server-sent-events.html"""
import json


class SSEDecoder:
    """Feed it bytes as they come off the network; it hands back the `data` of each complete
    event. Lines may be split anywhere (inside a UTF-8 character, between CR and LF); comments
    (`: ...`) and fields other than `data` are skipped, as the spec says."""

    def __init__(self):
        self._pending = b""  # the start of a line not yet ended
        self._data = []  # the data lines of the event being read

    def feed(self, chunk):
        """The data of every event that `chunk` completes, in order."""
        lines = (self._pending + chunk).splitlines(keepends=True)
        # The last line may be unfinished; so may a line ending in CR (its LF may come next).
        self._pending = b""
        if lines and (not lines[-1].endswith((b"\n", b"\r")) or lines[-1].endswith(b"\r")):
            self._pending = lines.pop()
        events = []
        for line in lines:
            event = self._line(line.rstrip(b"\r\n"))
            if event is not None:
                events.append(event)
        return events

    def close(self):
        """The stream has ended: the data of an event it left without its closing blank line."""
        events = self.feed(b"\n") if self._pending else []
        if self._data:
            events.extend(self.feed(b"\n"))
        return events

    def _line(self, line):
        if not line:  # a blank line ends the event
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        field, _, value = line.partition(b":")
        if field == b"data":
            self._data.append(value.removeprefix(b" ").decode("utf-8", "replace"))
        return None  # comments (empty field), event names, ids and retry hints: not needed


def encode_event(name, data):
    """One event of our own stream: its name and one line of JSON (JSON escapes line breaks)."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
