"""The pages no journey visits still work under the Content-Security-Policy: the API docs (Swagger UI,
vendored) and Django's admin. The ``page`` fixture fails a test on any violation the browser reports."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.models import Role
from tests.e2e.conftest import login
from tests.factories import PASSWORD, UserFactory, course_with_lessons

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_under_the_content_security_policy(page: Page) -> None:
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("AI Academy API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # swagger.css, not an inline style


def test_the_admin_works_under_the_content_security_policy(page: Page) -> None:
    admin = UserFactory(role=Role.ADMIN, username="ada")
    admin.is_superuser = True  # the administrator role alone has no model permissions in Django's admin
    admin.save(update_fields=["is_superuser"])
    login(page, admin.username, PASSWORD)
    page.goto("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    course = course_with_lessons(slug="intro", title_en="Intro")
    page.goto("/admin/courses/course/")
    expect(page.locator("#result_list")).to_contain_text("Intro")
    page.goto(f"/admin/courses/course/{course.pk}/change/")
    expect(page.locator("input[name=slug]")).to_have_value("intro")
    page.goto("/admin/courses/course/add/")
    expect(page.locator("input[name=slug]")).to_be_visible()
