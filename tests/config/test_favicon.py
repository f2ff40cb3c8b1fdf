"""The site's icon: linked from every page (templates/base.html) and answered at /favicon.ico, which
browsers ask for whatever a page links."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client


def test_favicon_ico_redirects_to_the_svg_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("favicon.svg")
    icon = Path(finders.find("favicon.svg")).read_text()  # what collectstatic ships and whitenoise serves
    assert icon.startswith("<svg") and "#3153d4" in icon


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/courses/", "/accounts/login/"])
def test_pages_link_the_svg_icon(client: Client, url: str) -> None:
    html = client.get(url).content.decode()
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in html
