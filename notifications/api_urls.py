from django.urls import path

from notifications import api

# The API, under /api/v1/ (namespace "api").
urlpatterns = [
    path("notifications/", api.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read-all/", api.NotificationReadAllApi.as_view(), name="notification-read-all"),
    path("notifications/unread-count/", api.NotificationUnreadCountApi.as_view(), name="notification-unread-count"),
    path(
        "notifications/<int:notification_id>/read/",
        api.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
