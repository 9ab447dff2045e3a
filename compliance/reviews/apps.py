from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "compliance.reviews"
    label = "reviews"
    verbose_name = "Access reviews"
