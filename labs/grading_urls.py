"""Grading pages under /grades/ and /cohorts/<slug>/… (the cohort pages themselves live in core)."""

from django.urls import path

from labs import grading_views

app_name = "grading"
urlpatterns = [
    path("grades/", grading_views.my_grades, name="my_grades"),
    path("cohorts/<slug:slug>/gradebook/", grading_views.gradebook, name="gradebook"),
    path("cohorts/<slug:slug>/gradebook/overrides/", grading_views.grade_override_create, name="override_create"),
    path("cohorts/<slug:slug>/gradebook/export/", grading_views.gradebook_export, name="gradebook_export"),
    path("cohorts/<slug:slug>/leaderboard/", grading_views.cohort_leaderboard, name="cohort_leaderboard"),
]
