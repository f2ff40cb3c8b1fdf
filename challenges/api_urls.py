from django.urls import path

from challenges import api

# The API, under /api/v1/ (namespace "api").
urlpatterns = [
    path("challenges/", api.ChallengeListApi.as_view(), name="challenge-list"),
    path("challenges/<slug:slug>/", api.ChallengeDetailApi.as_view(), name="challenge-detail"),
    path("challenges/<slug:slug>/leaderboard/", api.ChallengeLeaderboardApi.as_view(), name="challenge-leaderboard"),
    path("challenges/<slug:slug>/entries/", api.ChallengeEntriesApi.as_view(), name="challenge-entries"),
    path("challenges/<slug:slug>/final-picks/", api.ChallengeFinalPicksApi.as_view(), name="challenge-final-picks"),
]
