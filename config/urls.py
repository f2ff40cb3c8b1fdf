from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import prometheus
from config import views as site_views
from core import api, views
from core.login_throttle import ThrottledAuthenticationForm

api_patterns = (
    [
        path("", api.ApiRootApi.as_view(), name="root"),
        path("me/", api.MeApi.as_view(), name="me"),
        path("auth/token/", api.TokenObtainApi.as_view(), name="token"),
        path("", include("courses.api_urls")),
        path("", include("labs.api_urls")),
        path("", include("mentorship.api_urls")),
        path("", include("notifications.api_urls")),
        path("", include("cohorts.api_urls")),
        path("", include("grading.api_urls")),
        path("", include("coach.api_urls")),
        path("", include("challenges.api_urls")),
    ],
    "api",
)

urlpatterns = [
    path("", site_views.home, name="home"),
    path("favicon.ico", site_views.favicon, name="favicon"),
    path("healthz", site_views.healthz, name="healthz"),
    path("readyz", site_views.readyz, name="readyz"),
    path("livez", site_views.livez, name="livez"),
    path("metrics", prometheus.metrics, name="metrics"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/tokens/", views.api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path(
        "accounts/login/",
        LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),  # before Django's: it clears drafts
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("courses/", include("courses.urls")),
    path("labs/", include("labs.urls")),
    path("challenges/", include("challenges.urls")),
    path("", include("grading.urls")),  # /grades/, /labs/<slug>/leaderboard/, /cohorts/<slug>/gradebook/ …
    path("mentoring/", include("mentorship.urls")),
    path("coach/", include("coach.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("cohorts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="core/swagger_ui.html"),
        name="api-docs",
    ),
]
