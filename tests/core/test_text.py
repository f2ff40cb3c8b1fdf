"""``db_text``: any str becomes text every database stores, and nothing else changes; an address
holding NUL is refused before any lookup by it reaches PostgreSQL."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from core.text import db_text

HARD = ["\x00", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00", "😀", "𠀀", "é"]
ANY_TEXT = st.lists(st.characters(exclude_categories=()) | st.sampled_from(HARD), max_size=60).map("".join)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("plain text, 中文", "plain text, 中文"),
        ("bin\x00ary\x00", "binary"),
        ("lone \ud800 and \udfff", "lone \ufffd and \ufffd"),
        ("a pair \ud83d\ude00 is its character", "a pair 😀 is its character"),
        ("4-byte 😀 𠀀 𝔸 kept", "4-byte 😀 𠀀 𝔸 kept"),
        ("swapped \ude00\ud83d", "swapped \ufffd\ufffd"),
    ],
)
def test_db_text_removes_nul_and_replaces_lone_surrogates(raw: str, stored: str) -> None:
    assert db_text(raw) == stored


@given(text=ANY_TEXT)
def test_db_text_gives_utf8_text_without_nul_and_keeps_storable_text_as_it_is(text: str) -> None:
    stored = db_text(text)
    stored.encode("utf-8")  # raises on a lone surrogate
    assert "\x00" not in stored and db_text(stored) == stored
    if "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text):
        assert stored == text


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["/courses/a%00b/", "/courses/?q=%00", "/courses/?%00=x"])
def test_an_address_holding_nul_is_a_400(client: Client, address: str) -> None:
    response = client.get(address, headers={"accept-language": "zh-CN"})
    assert response.status_code == 400
    assert response.content.decode() == "地址中含有 NUL 空字符。"


@pytest.mark.django_db
def test_an_api_address_holding_nul_is_a_400_in_json(client: Client) -> None:
    response = client.get("/api/v1/labs/?search=%00")
    assert (response.status_code, response.json()) == (400, {"errors": ["The address holds a NUL character."]})
