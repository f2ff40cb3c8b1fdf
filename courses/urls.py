from django.urls import path

from courses import views

app_name = "courses"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("paths/<slug:slug>/", views.path_detail, name="path"),
    path("<slug:slug>/", views.course_detail, name="course"),
    path("<slug:slug>/enroll/", views.course_enroll, name="enroll"),
    path("<slug:course_slug>/<slug:lesson_slug>/", views.lesson_detail, name="lesson"),
    path("<slug:course_slug>/<slug:lesson_slug>/complete/", views.lesson_complete, name="complete"),
    path(
        "<slug:course_slug>/<slug:lesson_slug>/exercises/<slug:exercise_id>/check/",
        views.exercise_check,
        name="exercise_check",
    ),
    path(
        "<slug:course_slug>/<slug:lesson_slug>/exercises/<slug:exercise_id>/status/",
        views.exercise_status,
        name="exercise_status",
    ),
]
