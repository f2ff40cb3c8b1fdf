from django.urls import path

from coach import api

# The API, under /api/v1/ (namespace "api").
urlpatterns = [
    path("me/coach/", api.MyCoachApi.as_view(), name="my-coach"),
    path("mentoring/mentees/<str:username>/coach/", api.MenteeCoachApi.as_view(), name="mentee-coach"),
]
