"""The project's URL map: the admin, the editor endpoints, comments, the blog."""

from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.static import serve

from blog import editor, feeds, views
from blog.sitemaps import sitemaps

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    # The markdownx widget's endpoints, under its URL names but our views
    # (blog/editor.py); markdownx.urls stays out on purpose.
    path("markdownx/markdownify/", editor.preview, name="markdownx_markdownify"),
    path("markdownx/upload/", editor.upload_image, name="markdownx_upload"),
    path("feed/", feeds.rss, name="feed"),
    path("feed/atom/", feeds.atom, name="feed_atom"),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("search/", views.search_page, name="search"),
    # Uploads are images we re-encoded ourselves, so serving them from Django
    # is safe; a busy site puts them behind its web server or a shared store.
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
    path("comments/", include("comments.urls")),
    path("", include("comments.likes")),
    path("", include("blog.routes")),
]

# A database outage anywhere in the stack shows templates/503.html.
handler500 = "blog.middleware.server_error"
