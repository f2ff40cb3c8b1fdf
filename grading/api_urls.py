from django.urls import path

from grading import api

# The API, under /api/v1/ (namespace "api").
urlpatterns = [
    path("labs/<slug:slug>/leaderboard/", api.LabLeaderboardApi.as_view(), name="lab-leaderboard"),
    path("grades/", api.MyGradesApi.as_view(), name="my-grades"),
    path("cohorts/<slug:slug>/gradebook/", api.CohortGradebookApi.as_view(), name="cohort-gradebook"),
    path("cohorts/<slug:slug>/gradebook/export/", api.GradebookExportApi.as_view(), name="cohort-gradebook-export"),
    path("cohorts/<slug:slug>/overrides/", api.GradeOverrideCreateApi.as_view(), name="cohort-overrides"),
    path("cohorts/<slug:slug>/dashboard/", api.CohortDashboardApi.as_view(), name="cohort-dashboard"),
]
