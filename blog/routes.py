"""URL patterns of the public blog (the project's urls.py includes them)."""

from django.urls import path, register_converter

from blog import views


class MonthConverter:
    regex = "0[1-9]|1[0-2]"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "mm")

app_name = "blog"
urlpatterns = [
    path("", views.home, name="home"),
    path("category/<slug:slug>/", views.category_detail, name="category"),
    path("tag/<slug:slug>/", views.tag_detail, name="tag"),
    path("author/<str:username>/", views.author_detail, name="author"),
    path("<int:year>/", views.archive_year, name="archive_year"),
    path("<int:year>/<mm:month>/", views.archive_month, name="archive_month"),
    path("<int:year>/<mm:month>/<slug:slug>/", views.post_detail, name="post"),
]
