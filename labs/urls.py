from django.urls import path

from labs import authoring_views, views

app_name = "labs"
urlpatterns = [
    path("", views.lab_list, name="list"),
    path("submissions/", views.my_submissions, name="my_submissions"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/progress.json", views.run_progress, name="run_progress"),
    path("runs/<int:run_id>/weights.pt", views.run_weights, name="run_weights"),
    path("runs/<int:run_id>/log.txt", views.run_log, name="run_log"),
    path("runs/<int:run_id>/metrics.csv", views.run_metrics, name="run_metrics"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/rerun/", views.run_rerun, name="run_rerun"),
    # Before the catch-all <slug>/: "authoring" is no lab's slug (labs.authoring_views.RESERVED_SLUGS).
    path("authoring/", authoring_views.authoring_list, name="authoring"),
    path("authoring/<slug:slug>/", authoring_views.authoring_lab, name="authoring_lab"),
    path("authoring/<slug:slug>/reference/", authoring_views.authoring_reference, name="authoring_reference"),
    path("authoring/<slug:slug>/unpublish/", authoring_views.authoring_unpublish, name="authoring_unpublish"),
    path("authoring/<slug:slug>/download.zip", authoring_views.authoring_download, name="authoring_download"),
    path("<slug:slug>/", views.lab_detail, name="detail"),
]
