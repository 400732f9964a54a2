"""URL patterns of the public blog (the project's urls.py includes them)."""

from django.urls import path, register_converter

from blog import feeds, views


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
    # Feeds of one category (its subcategories included), tag or author.
    path(
        "category/<slug:slug>/feed/",
        feeds.rss,
        {"kind": "category"},
        name="category_feed",
    ),
    path(
        "category/<slug:slug>/feed/atom/",
        feeds.atom,
        {"kind": "category"},
        name="category_feed_atom",
    ),
    path("tag/<slug:slug>/feed/", feeds.rss, {"kind": "tag"}, name="tag_feed"),
    path(
        "tag/<slug:slug>/feed/atom/", feeds.atom, {"kind": "tag"}, name="tag_feed_atom"
    ),
    path(
        "author/<str:username>/feed/",
        feeds.rss,
        {"kind": "author"},
        name="author_feed",
    ),
    path(
        "author/<str:username>/feed/atom/",
        feeds.atom,
        {"kind": "author"},
        name="author_feed_atom",
    ),
    path("<int:year>/", views.archive_year, name="archive_year"),
    path("<int:year>/<mm:month>/", views.archive_month, name="archive_month"),
    path("<int:year>/<mm:month>/<slug:slug>/", views.post_detail, name="post"),
]
