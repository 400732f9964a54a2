"""The project's URL map: the admin, the editor endpoints, then the comments
app's URLs (namespace `comments`) and the blog's (namespace `blog`)."""

from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path, re_path

import blog.converters  # noqa: F401  (registers id, username, mm and uslug)
from blog import admin as blog_admin
from blog import editor, feeds, locale, media, pagecache, views
from blog.sitemaps import section as sitemap_section
from blog.sitemaps import sitemaps
from blog.subscriptions import views as subscriptions

blog_patterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("csrf-token", views.csrf_token, name="csrf_token"),
    path("feed/", feeds.rss, name="feed"),
    path("feed/atom/", feeds.atom, name="feed_atom"),
    path(
        "sitemap.xml",
        pagecache.kept_response(sitemap_views.index),
        {"sitemaps": sitemaps, "sitemap_url_name": "blog:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        pagecache.kept_response(sitemap_section),
        name="sitemap_section",
    ),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path(
        "jsi18n/<str:language>.js",
        locale.javascript_catalog,
        name="javascript_catalog",
    ),
    path("favicon.ico", views.favicon, name="favicon"),
    path("search/", views.search_page, name="search"),
    path("subscribe/", subscriptions.subscribe, name="subscribe"),
    path(
        "subscribe/confirm/<str:token>/",
        subscriptions.confirm,
        name="subscription_confirm",
    ),
    path(
        "subscribe/manage/<str:token>/",
        subscriptions.manage,
        name="subscription_manage",
    ),
    path(
        "subscribe/unsubscribe/<str:token>/",
        subscriptions.unsubscribe,
        name="subscription_unsubscribe",
    ),
    path("category/<uslug:slug>/", views.category_detail, name="category"),
    path("tag/<uslug:slug>/", views.tag_detail, name="tag"),
    path("author/<username:username>/", views.author_detail, name="author"),
    # Feeds of one category (its subcategories included), tag or author.
    path(
        "category/<uslug:slug>/feed/",
        feeds.rss,
        {"kind": "category"},
        name="category_feed",
    ),
    path(
        "category/<uslug:slug>/feed/atom/",
        feeds.atom,
        {"kind": "category"},
        name="category_feed_atom",
    ),
    path("tag/<uslug:slug>/feed/", feeds.rss, {"kind": "tag"}, name="tag_feed"),
    path(
        "tag/<uslug:slug>/feed/atom/", feeds.atom, {"kind": "tag"}, name="tag_feed_atom"
    ),
    path(
        "author/<username:username>/feed/",
        feeds.rss,
        {"kind": "author"},
        name="author_feed",
    ),
    path(
        "author/<username:username>/feed/atom/",
        feeds.atom,
        {"kind": "author"},
        name="author_feed_atom",
    ),
    path("<int:year>/", views.archive_year, name="archive_year"),
    path("<int:year>/<mm:month>/", views.archive_month, name="archive_month"),
    path("<int:year>/<mm:month>/<uslug:slug>/", views.post_detail, name="post"),
    # Pages (/about/, /about/contact/) come after every other route, here and
    # in urlpatterns below, so that a page can never hide one; Page.clean()
    # refuses an address that another route answers.
    re_path(r"^(?P<path>[-\w]+(?:/[-\w]+)*)/$", views.page_detail, name="page"),
]

urlpatterns = [
    # In front of Django's own "View on site" redirect: this one checks that
    # the object is the user's to see (blog/admin.py).
    path(
        "admin/r/<id:content_type_id>/<path:object_id>/",
        blog_admin.view_on_site,
        name="view_on_site",
    ),
    path("admin/", admin.site.urls),
    # The markdownx widget's endpoints, under the URL names it reverses but
    # our views (blog/editor.py); markdownx.urls stays out on purpose.
    path("markdownx/markdownify/", editor.preview, name="markdownx_markdownify"),
    path("markdownx/upload/", editor.upload_image, name="markdownx_upload"),
    # Uploads are images we re-encoded ourselves, so serving them from Django
    # is safe, from the disk or the shared bucket (blog/media.py); a busy
    # site puts a caching proxy in front.
    path("media/<path:path>", media.serve),
    path("", include("comments.urls")),
    path("", include((blog_patterns, "blog"))),
]

# A database outage anywhere in the stack shows templates/503.html.
handler500 = "blog.middleware.server_error"
