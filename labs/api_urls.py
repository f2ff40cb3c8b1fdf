from django.urls import path

from labs import api, api_artifacts

urlpatterns = [
    path("labs/", api.LabListApi.as_view(), name="lab-list"),
    path("labs/<slug:slug>/", api.LabDetailApi.as_view(), name="lab-detail"),
    path("labs/<slug:slug>/submissions/", api.SubmissionCreateApi.as_view(), name="lab-submit"),
    path("labs/<slug:slug>/data/", api_artifacts.LabDataApi.as_view(), name="lab-data"),
    path("runs/", api.RunListApi.as_view(), name="run-list"),
    path("runs/<int:run_id>/", api.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:run_id>/cancel/", api.RunCancelApi.as_view(), name="run-cancel"),
    path("runs/<int:run_id>/rerun/", api.RunRerunApi.as_view(), name="run-rerun"),
    path("runs/<int:run_id>/weights/", api_artifacts.RunWeightsApi.as_view(), name="run-weights"),
    path("runs/<int:run_id>/log/", api_artifacts.RunLogApi.as_view(), name="run-log"),
    path("runs/<int:run_id>/metrics.csv", api_artifacts.RunMetricsApi.as_view(), name="run-metrics"),
]
