from django.urls import path

from labs import api, grading_api

urlpatterns = [
    path("labs/", api.LabListApi.as_view(), name="lab-list"),
    path("labs/<slug:slug>/", api.LabDetailApi.as_view(), name="lab-detail"),
    path("labs/<slug:slug>/submissions/", api.SubmissionCreateApi.as_view(), name="lab-submit"),
    path("runs/", api.RunListApi.as_view(), name="run-list"),
    path("runs/<int:run_id>/", api.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:run_id>/cancel/", api.RunCancelApi.as_view(), name="run-cancel"),
    path("runs/<int:run_id>/rerun/", api.RunRerunApi.as_view(), name="run-rerun"),
    path("labs/<slug:slug>/leaderboard/", grading_api.LabLeaderboardApi.as_view(), name="lab-leaderboard"),
    path("grades/", grading_api.MyGradesApi.as_view(), name="my-grades"),
    path("cohorts/<slug:slug>/gradebook/", grading_api.CohortGradebookApi.as_view(), name="cohort-gradebook"),
    path(
        "cohorts/<slug:slug>/gradebook/export/",
        grading_api.GradebookExportApi.as_view(),
        name="cohort-gradebook-export",
    ),
    path("cohorts/<slug:slug>/overrides/", grading_api.GradeOverrideCreateApi.as_view(), name="cohort-overrides"),
]
