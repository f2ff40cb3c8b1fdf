from django.urls import path

from core import cohort_views, cohorts_api

# Pages, at the site root; names are global (``Job.get_absolute_url`` reverses "job").
urlpatterns = [
    path("cohorts/", cohort_views.cohort_list, name="cohorts"),
    path("cohorts/<slug:slug>/", cohort_views.cohort_detail, name="cohort"),
    path("jobs/<int:job_id>/", cohort_views.job_detail, name="job"),
    path("jobs/<int:job_id>/result.csv", cohort_views.job_result, name="job_result"),
]

# The API, under /api/v1/ (namespace "api").
api_urlpatterns = [
    path("cohorts/", cohorts_api.CohortListApi.as_view(), name="cohort-list"),
    path("cohorts/<slug:slug>/", cohorts_api.CohortDetailApi.as_view(), name="cohort-detail"),
    path("cohorts/<slug:slug>/roster/", cohorts_api.CohortRosterApi.as_view(), name="cohort-roster"),
    path("jobs/<int:job_id>/", cohorts_api.JobDetailApi.as_view(), name="job-detail"),
]
