from django.urls import path

from courses import api

urlpatterns = [
    path("paths/", api.PathListApi.as_view(), name="path-list"),
    path("paths/<slug:slug>/", api.PathDetailApi.as_view(), name="path-detail"),
    path("courses/", api.CourseListApi.as_view(), name="course-list"),
    path("courses/<slug:slug>/", api.CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<slug:slug>/enroll/", api.CourseEnrollApi.as_view(), name="course-enroll"),
    path("modules/", api.ModuleListApi.as_view(), name="module-list"),
    path("modules/<int:pk>/", api.ModuleDetailApi.as_view(), name="module-detail"),
    path("lessons/", api.LessonListApi.as_view(), name="lesson-list"),
    path("lessons/<int:pk>/", api.LessonDetailApi.as_view(), name="lesson-detail"),
    path("lessons/<int:lesson_id>/complete/", api.LessonCompleteApi.as_view(), name="lesson-complete"),
    path("progress/", api.MyProgressApi.as_view(), name="my-progress"),
]
