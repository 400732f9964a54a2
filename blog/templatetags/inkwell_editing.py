"""The site's "Edit this post" link, for staff who may change it.

Staff always carry a session cookie, so the page cache never stores a page
they asked for (blog/pagecache.py), and the views mark such answers private
too; the link sits outside every {% cache %} fragment, which all readers
share."""

from django import template
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag(takes_context=True)
def edit_link(context: template.Context, written) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff) or written.pk is None:
        return ""
    model_admin = admin.site.get_model_admin(type(written))
    if not model_admin.has_change_permission(request, written):
        return ""
    opts = written._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[written.pk])
    label = (
        gettext("Edit this post")
        if opts.model_name == "post"
        else gettext("Edit this page")
    )
    return format_html('<p class="staff-edit"><a href="{}">{}</a></p>', url, label)
