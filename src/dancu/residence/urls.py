from django.urls import path

from dancu.residence import views

app_name = "residence"
urlpatterns = [
    path("arrival/", views.arrival, name="arrival"),
    path("<str:personal_id>/temporary/", views.register_temporary, name="temporary"),
    path("<str:personal_id>/absence/", views.declare_absence, name="absence"),
    path("<str:personal_id>/stay/", views.notify_stay, name="stay"),
    path("<str:personal_id>/permanent/", views.register_permanent, name="permanent"),
    path("<str:personal_id>/registrations/<int:registration_id>/renew/", views.renew_temporary,
         name="renew"),
    path("<str:personal_id>/registrations/<int:registration_id>/end/", views.end_registration,
         name="end"),
]
