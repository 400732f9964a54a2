"""{% fragment "name" key… %}…{% endfragment %}: a cached piece of a page.

The body is rendered only when the shared cache has no copy for this content
version (blog/fragments.py); what it reads from the context, lazily built by
the view, then costs nothing on the other requests. The body must show the
same to every reader.
"""

from django import template

from blog import fragments

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name, key: list) -> None:
        self.nodelist = nodelist
        self.name = name
        self.key = key

    def render(self, context: template.Context) -> str:
        return fragments.cached(
            self.name.resolve(context),
            *(part.resolve(context) for part in self.key),
            build=lambda: self.nodelist.render(context),
        )


@register.tag
def fragment(parser: template.base.Parser, token: template.base.Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            f"{bits[0]!r} takes a name and, optionally, key values."
        )
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(
        nodelist,
        parser.compile_filter(bits[1]),
        [parser.compile_filter(bit) for bit in bits[2:]],
    )
