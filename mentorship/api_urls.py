from django.urls import path

from mentorship import api

urlpatterns = [
    path("mentoring/queue/", api.ReviewQueueApi.as_view(), name="review-queue"),
    path("mentoring/mentees/", api.MenteesApi.as_view(), name="mentees"),
    path("mentoring/mentees/<str:username>/sessions/", api.MenteeSessionsApi.as_view(), name="mentee-sessions"),
    path("mentoring/mentees/<str:username>/notes/", api.MenteeNotesApi.as_view(), name="mentee-notes"),
    path("runs/<int:run_id>/reviews/", api.RunReviewsApi.as_view(), name="run-reviews"),
    path("runs/<int:run_id>/dismissal/", api.RunDismissalApi.as_view(), name="run-dismissal"),
]
