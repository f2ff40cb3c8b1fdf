"""Grading's pages: /grades/, a lab's leaderboard, and a cohort's gradebook, leaderboard and dashboard
(the cohort's own pages are in ``cohorts.urls``); the API's are in ``grading.api_urls``."""

from django.urls import path

from grading import views

app_name = "grading"
urlpatterns = [
    path("grades/", views.my_grades, name="my_grades"),
    path("labs/<slug:slug>/leaderboard/", views.lab_leaderboard, name="lab_leaderboard"),
    path("cohorts/<slug:slug>/gradebook/", views.gradebook, name="gradebook"),
    path("cohorts/<slug:slug>/gradebook/overrides/", views.grade_override_create, name="override_create"),
    path("cohorts/<slug:slug>/gradebook/export/", views.gradebook_export, name="gradebook_export"),
    path("cohorts/<slug:slug>/leaderboard/", views.cohort_leaderboard, name="cohort_leaderboard"),
    path("cohorts/<slug:slug>/dashboard/", views.cohort_dashboard, name="cohort_dashboard"),
]
