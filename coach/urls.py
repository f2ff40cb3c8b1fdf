from django.urls import path

from coach import views

app_name = "coach"

urlpatterns = [
    path("learners/<str:username>/choices/", views.choice_create, name="choice_create"),
    path("learners/<str:username>/choices/<int:choice_id>/delete/", views.choice_delete, name="choice_delete"),
]
