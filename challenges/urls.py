"""The challenge pages (``challenges.views``); the API's are in ``challenges.api``."""

from django.urls import path

from challenges import views

app_name = "challenges"
urlpatterns = [
    path("", views.challenge_list, name="list"),
    path("new/", views.challenge_create, name="create"),
    path("<slug:slug>/", views.challenge_detail, name="detail"),
    path("<slug:slug>/phases/<int:position>/", views.phase_detail, name="phase"),
    path("<slug:slug>/phases/<int:position>/board/", views.phase_board, name="board"),
    path("<slug:slug>/phases/<int:position>/enter/", views.entry_create, name="enter"),
    path("<slug:slug>/phases/<int:position>/picks/", views.final_picks, name="picks"),
    path("<slug:slug>/team/", views.team, name="team"),
    path("<slug:slug>/team/create/", views.team_create, name="team_create"),
    path("<slug:slug>/team/invite/", views.team_invite, name="team_invite"),
    path("<slug:slug>/team/leave/", views.team_leave, name="team_leave"),
    path("<slug:slug>/invites/<int:invite_id>/accept/", views.invite_accept, name="invite_accept"),
    path("<slug:slug>/invites/<int:invite_id>/decline/", views.invite_decline, name="invite_decline"),
]
