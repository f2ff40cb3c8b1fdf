from django.urls import path

from mentorship import views

app_name = "mentorship"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("queue/", views.queue, name="queue"),
    path("runs/<int:run_id>/review/", views.review, name="review"),
    path("runs/<int:run_id>/dismiss/", views.dismiss, name="dismiss"),
    path("runs/<int:run_id>/dismiss/undo/", views.dismiss_undo, name="dismiss_undo"),
    path("mentees/<str:username>/", views.mentee, name="mentee"),
    path("me/", views.my_mentoring, name="mine"),
]
