"""SSE encoding: AgentOS's exact framing, one data line whatever the text holds."""

from __future__ import annotations

import json

from mockserver.wire.sse import encode_frame


def test_a_frame_is_event_line_data_line_blank_line() -> None:
    frame = encode_frame("TeamRunContent", {"created_at": 1, "event": "TeamRunContent", "content": 'héllo\n"x" 日本'})
    expected = (
        'event: TeamRunContent\ndata: {"created_at":1,"event":"TeamRunContent","content":"héllo\\n\\"x\\" 日本"}\n\n'
    )
    assert frame == expected.encode()


def test_characters_that_split_lines_in_python_are_escaped_but_parse_back() -> None:
    text = "a\u2028b\u2029c\x85d\x0be\x1cf"
    frame = encode_frame("TeamRunContent", {"content": text})
    head, data, blank = frame.decode().split("\n", 2)
    assert blank == "\n" and frame.decode().splitlines() == [head, data, ""]
    assert json.loads(data[len("data: ") :])["content"] == text
