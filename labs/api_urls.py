from django.urls import path

from labs import api

urlpatterns = [
    path("labs/", api.LabListApi.as_view(), name="lab-list"),
    path("labs/<slug:slug>/", api.LabDetailApi.as_view(), name="lab-detail"),
    path("labs/<slug:slug>/submissions/", api.SubmissionCreateApi.as_view(), name="lab-submit"),
    path("runs/", api.RunListApi.as_view(), name="run-list"),
    path("runs/<int:run_id>/", api.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:run_id>/cancel/", api.RunCancelApi.as_view(), name="run-cancel"),
    path("runs/<int:run_id>/rerun/", api.RunRerunApi.as_view(), name="run-rerun"),
]
