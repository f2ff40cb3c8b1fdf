from django.urls import path

from cohorts import views  # Pages, at the site root; names are global (``Job.get_absolute_url`` reverses "job").

urlpatterns = [
    path("cohorts/", views.cohort_list, name="cohorts"),
    path("cohorts/<slug:slug>/", views.cohort_detail, name="cohort"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/result.csv", views.job_result, name="job_result"),
]
