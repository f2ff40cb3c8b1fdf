from django.urls import path

from notifications import views  # Pages, under /notifications/.

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("<int:notification_id>/open", views.notification_open, name="notification_open"),
    path("read-all/", views.notifications_read_all, name="notifications_read_all"),
]
