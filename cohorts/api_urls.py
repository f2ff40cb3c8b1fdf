from django.urls import path

from cohorts import api

# The API, under /api/v1/ (namespace "api").
urlpatterns = [
    path("cohorts/", api.CohortListApi.as_view(), name="cohort-list"),
    path("cohorts/<slug:slug>/", api.CohortDetailApi.as_view(), name="cohort-detail"),
    path("cohorts/<slug:slug>/roster/", api.CohortRosterApi.as_view(), name="cohort-roster"),
    path("jobs/<int:job_id>/", api.JobDetailApi.as_view(), name="job-detail"),
]
