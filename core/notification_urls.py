from django.urls import path

from core import notification_api, notification_views

# Pages, under /notifications/.
urlpatterns = [
    path("", notification_views.notification_list, name="notifications"),
    path("<int:notification_id>/open", notification_views.notification_open, name="notification_open"),
    path("read-all/", notification_views.notifications_read_all, name="notifications_read_all"),
]

# The API, under /api/v1/ (namespace "api").
api_urlpatterns = [
    path("notifications/", notification_api.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read-all/", notification_api.NotificationReadAllApi.as_view(), name="notification-read-all"),
    path(
        "notifications/<int:notification_id>/read/",
        notification_api.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
