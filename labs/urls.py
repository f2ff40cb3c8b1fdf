from django.urls import path

from labs import views

app_name = "labs"
urlpatterns = [
    path("", views.lab_list, name="list"),
    path("submissions/", views.my_submissions, name="my_submissions"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/progress.json", views.run_progress, name="run_progress"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/rerun/", views.run_rerun, name="run_rerun"),
    path("<slug:slug>/", views.lab_detail, name="detail"),
]
